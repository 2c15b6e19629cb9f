// The OpenAI messages format: {"messages": [{role, content, tool_calls?}]}, tool results as role
// "tool", tools as a list of function schemas. Follows LLaMA-Factory's OpenAIDatasetConverter: an
// assistant turn with tool_calls becomes a function turn holding the calls as JSON; consecutive tool
// turns merge into one observation. Unlike it, a tool call's `arguments` given as JSON text is parsed
// (OpenAI's wire format), and no system prompt is invented when the row has none.

import { err, ok, type Result } from "neverthrow";
import {
  type DatasetAttr,
  type DatasetFormat,
  DEFAULT_COLUMNS,
  DEFAULT_TAGS,
  definePlugin,
  describe,
  type Message,
  type RowProblem,
  type Tags,
} from "../../../core/index.ts";
import { pyJsonDumps } from "../templates/pyjson.ts";
import { columnOptions, tagOptions } from "./columns.ts";
import { asRow, optionalString, problem, type Row, toolsText } from "./row-fields.ts";
import { type AlignedTurns, allowedAt, roleOf, splitLastTurn } from "./turns.ts";

/** OpenAI's own role names; used when the dataset gives no `tags`. */
export const OPENAI_TAGS: Tags = {
  role_tag: "role",
  content_tag: "content",
  user_tag: "user",
  assistant_tag: "assistant",
  observation_tag: "tool",
  function_tag: "function",
  system_tag: "system",
};

/** A row's messages aligned as sharegpt's turns are (pairwise and kto use it too). */
export function alignOpenai(row: Row, attr: DatasetAttr): Result<AlignedTurns, RowProblem> {
  const tags = attr.tags === DEFAULT_TAGS ? OPENAI_TAGS : attr.tags;
  // Without a `columns` object the OpenAI default column is "messages", not sharegpt's "conversations".
  const column = attr.columns === DEFAULT_COLUMNS ? "messages" : attr.columns.messages;
  if (column === undefined) return err(problem("missing-column", "the dataset sets no messages column"));
  const list = row[column];
  if (list === undefined) return err(problem("missing-column", `missing column "${column}"`));
  if (!Array.isArray(list)) return err(problem("wrong-type", `column "${column}" must be a list of messages, found ${describe(list)}`));
  const roleTag = tags.role_tag ?? "role";
  const contentTag = tags.content_tag ?? "content";

  let start = 0;
  let system = "";
  const first = list[0] as Row | undefined;
  if (first !== undefined && typeof first === "object" && first !== null && tags.system_tag !== undefined && first[roleTag] === tags.system_tag) {
    if (typeof first[contentTag] !== "string")
      return err(problem("wrong-type", `${column}[0] (system) content must be a string, found ${describe(first[contentTag])}`));
    system = first[contentTag] as string;
    start = 1;
  } else {
    const s = optionalString(row, attr.columns.system);
    if (s.isErr()) return err(s.error);
    system = s.value;
  }

  const messages: Message[] = [];
  let toolResults: string[] = [];
  const flush = () => {
    if (toolResults.length > 0) messages.push({ role: "observation", content: toolResults.join("\n</tool_response>\n<tool_response>\n") });
    toolResults = [];
  };
  for (let i = start; i < list.length; i++) {
    const m = list[i];
    const where = `${column}[${i}]`;
    if (typeof m !== "object" || m === null || Array.isArray(m)) return err(problem("wrong-type", `${where} must be an object, found ${describe(m)}`));
    const msg = m as Row;
    let role = roleOf(tags, msg[roleTag]);
    let content = msg[contentTag] ?? "";
    const calls = msg.tool_calls;
    if ((role === "assistant" || role === "function") && Array.isArray(calls) && calls.length > 0) {
      const fns = toolCalls(calls, where);
      if (fns.isErr()) return err(fns.error);
      content = pyJsonDumps(fns.value);
      role = "function";
    }
    if (role === undefined || role === "system") return err(problem("invalid-role", `${where} has role ${describe(msg[roleTag])}`));
    if (typeof content !== "string") return err(problem("wrong-type", `${where} "${contentTag}" must be a string, found ${describe(content)}`));
    if (role === "observation") {
      toolResults.push(content);
      continue;
    }
    flush();
    messages.push({ role, content });
  }
  flush();
  for (let i = 0; i < messages.length; i++) {
    if (!allowedAt(i).includes(messages[i]!.role)) {
      return err(problem("invalid-role", `turn ${i} is "${messages[i]!.role}" where ${allowedAt(i).join(" or ")} is expected`));
    }
  }
  const tools = toolsText(row, attr.columns.tools);
  if (tools.isErr()) return err(tools.error);
  return ok({ messages, system, tools: tools.value });
}

function toolCalls(calls: unknown[], where: string): Result<{ name: string; arguments: unknown }[], RowProblem> {
  const out: { name: string; arguments: unknown }[] = [];
  for (const [j, call] of calls.entries()) {
    const fn = (call as Row | null)?.function as Row | undefined;
    if (typeof fn !== "object" || fn === null || typeof fn.name !== "string") {
      return err(problem("wrong-type", `${where}.tool_calls[${j}] must be {function: {name, arguments}}, found ${describe(call)}`));
    }
    let args = fn.arguments;
    if (typeof args === "string") {
      try {
        args = JSON.parse(args);
      } catch {
        return err(problem("wrong-type", `${where}.tool_calls[${j}].function.arguments is not valid JSON text`));
      }
    }
    out.push({ name: fn.name, arguments: args ?? {} });
  }
  return ok(out);
}

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
  setup: (api) =>
    api.register.datasets({
      name: "openai",
      doc: "OpenAI chat messages with tool_calls and tool results",
      options: { ...columnOptions, ...tagOptions },
      ...openaiFormat,
    }),
});
