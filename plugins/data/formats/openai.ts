// The OpenAI messages format: {"messages": [{"role", "content", "tool_calls"?}]}, tool results as
// role "tool", tools as a list of function schemas.
import { alignOpenai, asRow, definePlugin, splitLastTurn, type DatasetFormat } from "../../../core/index.ts";
import { err } from "neverthrow";
import { columnOptions, tagOptions } from "./columns.ts";

export const openaiFormat: DatasetFormat = {
  produces: ["sft"],
  convert(value, attr) {
    const row = asRow(value);
    if (row.isErr()) return err(row.error);
    return alignOpenai(row.value, attr).andThen(({ messages, system, tools }) =>
      splitLastTurn(messages, "messages").map(({ prompt, response }) => ({ kind: "sft" as const, prompt, response, system, tools })),
    );
  },
};

export default definePlugin({
  name: "lft-format-openai",
  setup: (api) => api.register.datasets({ name: "openai", doc: "OpenAI chat messages with tool_calls and tool results", options: { ...columnOptions, ...tagOptions }, ...openaiFormat }),
});
