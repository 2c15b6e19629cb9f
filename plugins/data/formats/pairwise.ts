// Preference pairs for reward modelling and DPO ("ranking": true in dataset_info.json), in both of
// LLaMA-Factory's shapes: alpaca (chosen / rejected strings) and sharegpt (a conversation whose last
// turn is the user's, and chosen / rejected turn objects), as dpo_en_demo has; and LF v1's two whole
// conversations (chosen_messages / rejected_messages, v1.ts).

import { err } from "neverthrow";
import { type DatasetAttr, type DatasetFormat, DEFAULT_TAGS, definePlugin } from "../../../core/index.ts";
import { alpacaPrompt } from "./alpaca.ts";
import { columnOptions, tagOptions } from "./columns.ts";
import { alignOpenai, OPENAI_TAGS } from "./openai.ts";
import { asRow, problem, type Row, requireString } from "./row-fields.ts";
import { alignSharegpt } from "./sharegpt.ts";
import { RESPONSE_ROLES, turnOf } from "./turns.ts";
import { v1Pairwise } from "./v1.ts";

function alpacaShape(row: Row, attr: DatasetAttr) {
  return alpacaPrompt(row, attr).andThen(({ prompt, system, tools }) =>
    requireString(row, attr.columns.chosen ?? "chosen").andThen((chosen) =>
      requireString(row, attr.columns.rejected ?? "rejected").map((rejected) => ({
        kind: "pairwise" as const,
        prompt,
        system,
        tools,
        chosen: { role: "assistant" as const, content: chosen },
        rejected: { role: "assistant" as const, content: rejected },
      })),
    ),
  );
}

function conversationShape(row: Row, attr: DatasetAttr) {
  const aligned = attr.formatting === "openai" ? alignOpenai(row, attr) : alignSharegpt(row, attr);
  return aligned.andThen(({ messages, system, tools }) => {
    if (messages.length % 2 !== 1) {
      return err(problem("invalid-turns", `a ranking conversation must end with the user's turn (an odd number of turns), found ${messages.length}`));
    }
    const tags = attr.formatting === "openai" && attr.tags === DEFAULT_TAGS ? OPENAI_TAGS : attr.tags;
    return turnOf(row[attr.columns.chosen ?? "chosen"], tags, RESPONSE_ROLES, `column "${attr.columns.chosen ?? "chosen"}"`).andThen((chosen) =>
      turnOf(row[attr.columns.rejected ?? "rejected"], tags, RESPONSE_ROLES, `column "${attr.columns.rejected ?? "rejected"}"`).map((rejected) => ({
        kind: "pairwise" as const,
        prompt: messages,
        system,
        tools,
        chosen,
        rejected,
      })),
    );
  });
}

export const pairwiseFormat: DatasetFormat = {
  produces: ["pairwise"],
  convert(value, attr) {
    const row = asRow(value);
    if (row.isErr()) return err(row.error);
    if (attr.formatting === "v1") return v1Pairwise(row.value, attr);
    return attr.formatting === "alpaca" ? alpacaShape(row.value, attr) : conversationShape(row.value, attr);
  },
};

export default definePlugin({
  name: "lft-format-pairwise",
  setup: (api) =>
    api.register.datasets({
      name: "pairwise",
      doc: "chosen/rejected preference pairs (alpaca, sharegpt/openai or LF v1 shape) for RM and DPO",
      options: { ...columnOptions, ...tagOptions },
      ...pairwiseFormat,
    }),
});
