// The sharegpt format: a list of turns with role tags (human/gpt/observation/function_call/system by
// default), the last turn being the response; tools from a tools column.
import { alignSharegpt, asRow, definePlugin, splitLastTurn, type DatasetFormat } from "../../../core/index.ts";
import { err } from "neverthrow";
import { columnOptions, tagOptions } from "./columns.ts";

export const sharegptFormat: DatasetFormat = {
  produces: ["sft"],
  convert(value, attr) {
    const row = asRow(value);
    if (row.isErr()) return err(row.error);
    return alignSharegpt(row.value, attr).andThen(({ messages, system, tools }) =>
      splitLastTurn(messages, attr.columns.messages ?? "conversations").map(({ prompt, response }) => ({ kind: "sft" as const, prompt, response, system, tools })),
    );
  },
};

export default definePlugin({
  name: "lft-format-sharegpt",
  setup: (api) => api.register.datasets({ name: "sharegpt", doc: "multi-turn conversations with role tags, tools and tool calls", options: { ...columnOptions, ...tagOptions }, ...sharegptFormat }),
});
