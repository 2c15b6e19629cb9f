// KTO examples: a conversation (alpaca or sharegpt shape) whose response is tagged desirable or not
// by a boolean kto_tag column, as kto_en_demo has.

import { err, ok, type Result } from "neverthrow";
import { type DatasetAttr, type DatasetFormat, definePlugin, describe, type Message, type RowProblem } from "../../../core/index.ts";
import { alpacaPrompt } from "./alpaca.ts";
import { columnOptions, tagOptions } from "./columns.ts";
import { alignOpenai } from "./openai.ts";
import { asRow, problem, type Row, requireString } from "./row-fields.ts";
import { alignSharegpt } from "./sharegpt.ts";
import { splitLastTurn } from "./turns.ts";

function tag(row: Row, column: string): Result<boolean, RowProblem> {
  const v = row[column];
  if (v === undefined) return err(problem("missing-column", `missing column "${column}"`));
  return typeof v === "boolean" ? ok(v) : err(problem("wrong-type", `column "${column}" (kto_tag) must be true or false, found ${describe(v)}`));
}

function chat(row: Row, attr: DatasetAttr): Result<{ prompt: Message[]; response: Message; system: string; tools: string }, RowProblem> {
  if (attr.formatting === "alpaca") {
    return alpacaPrompt(row, attr).andThen((p) =>
      requireString(row, attr.columns.response ?? "output").map((content) => ({ ...p, response: { role: "assistant" as const, content } })),
    );
  }
  const aligned = attr.formatting === "openai" ? alignOpenai(row, attr) : alignSharegpt(row, attr);
  return aligned.andThen(({ messages, system, tools }) =>
    splitLastTurn(messages, attr.columns.messages ?? "messages").map(({ prompt, response }) => ({ prompt, response, system, tools })),
  );
}

export const ktoFormat: DatasetFormat = {
  produces: ["kto"],
  convert(value, attr) {
    const row = asRow(value);
    if (row.isErr()) return err(row.error);
    const column = attr.columns.kto_tag ?? "kto_tag";
    return tag(row.value, column).andThen((desirable) => chat(row.value, attr).map((c) => ({ kind: "kto" as const, ...c, desirable })));
  },
};

export default definePlugin({
  name: "lft-format-kto",
  setup: (api) =>
    api.register.datasets({
      name: "kto",
      doc: "responses tagged desirable/undesirable by a boolean kto_tag column",
      options: { ...columnOptions, ...tagOptions },
      ...ktoFormat,
    }),
});
