// The sharegpt format (LLaMA-Factory's SharegptDatasetConverter): a list of {role_tag, content_tag}
// turns with role tags (human/gpt/observation/function_call/system by default); a leading system turn
// becomes the system prompt; user/observation turns and assistant/function turns must alternate,
// starting with a user turn; the last turn is the response; tools from a tools column.

import { err, ok, type Result } from "neverthrow";
import { type DatasetAttr, type DatasetFormat, definePlugin, describe, type Message, type RowProblem } from "../../../core/index.ts";
import { columnOptions, tagOptions } from "./columns.ts";
import { asRow, optionalString, problem, type Row, toolsText } from "./row-fields.ts";
import { type AlignedTurns, allowedAt, splitLastTurn, turnOf } from "./turns.ts";

/** A row's turns aligned to messages, with its system prompt and tools (pairwise and kto use it too). */
export function alignSharegpt(row: Row, attr: DatasetAttr): Result<AlignedTurns, RowProblem> {
  const { columns, tags } = attr;
  const column = columns.messages;
  if (column === undefined) return err(problem("missing-column", "the dataset sets no messages column"));
  const list = row[column];
  if (list === undefined) return err(problem("missing-column", `missing column "${column}"`));
  if (!Array.isArray(list)) return err(problem("wrong-type", `column "${column}" must be a list of turns, found ${describe(list)}`));
  let turns: unknown[] = list;
  let system = "";
  const first = turns[0] as Row | undefined;
  if (tags.system_tag !== undefined && first !== undefined && typeof first === "object" && first !== null && first[tags.role_tag ?? ""] === tags.system_tag) {
    const content = first[tags.content_tag ?? ""];
    if (typeof content !== "string") return err(problem("wrong-type", `${column}[0] (system) content must be a string, found ${describe(content)}`));
    system = content;
    turns = turns.slice(1);
  } else {
    const s = optionalString(row, columns.system);
    if (s.isErr()) return err(s.error);
    system = s.value;
  }
  const messages: Message[] = [];
  const offset = list.length - turns.length;
  for (let i = 0; i < turns.length; i++) {
    const m = turnOf(turns[i], tags, allowedAt(i), `${column}[${i + offset}]`);
    if (m.isErr()) return err(m.error);
    messages.push(m.value);
  }
  const tools = toolsText(row, columns.tools);
  if (tools.isErr()) return err(tools.error);
  return ok({ messages, system, tools: tools.value });
}

export const sharegptFormat: DatasetFormat = {
  produces: ["sft"],
  convert(value, attr) {
    const row = asRow(value);
    if (row.isErr()) return err(row.error);
    return alignSharegpt(row.value, attr).andThen(({ messages, system, tools }) =>
      splitLastTurn(messages, attr.columns.messages ?? "conversations").map(({ prompt, response }) => ({
        kind: "sft" as const,
        prompt,
        response,
        system,
        tools,
      })),
    );
  },
};

export default definePlugin({
  name: "lft-format-sharegpt",
  setup: (api) =>
    api.register.datasets({
      name: "sharegpt",
      doc: "multi-turn conversations with role tags, tools and tool calls",
      options: { ...columnOptions, ...tagOptions },
      ...sharegptFormat,
    }),
});
