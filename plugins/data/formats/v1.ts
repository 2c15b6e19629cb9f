// LLaMA-Factory's v1 data format ("formatting": "v1"): messages whose `content` is a list of typed parts,
// {"type": "text" | "reasoning" | "tool_call" | "image_url" | "video_url" | "audio_url", "value": ...}, with a
// per-message `loss_weight`, as in LF's data/v1_sft_demo.jsonl ({"messages": [...]}) and v1_dpo_demo.jsonl
// ({"chosen_messages": [...], "rejected_messages": [...]}, with "ranking": true). Text parts are joined with
// nothing between them and tool_call parts become the turn's tool calls, as LF's `_to_hf_messages` does;
// the turns then align as OpenAI messages do. Reasoning and media parts are refused, naming the part,
// until lft's messages carry thoughts and media.

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
} from "../../../core/index.ts";
import { columnOptions } from "./columns.ts";
import { alignOpenai } from "./openai.ts";
import { asRow, problem, type Row } from "./row-fields.ts";
import { type AlignedTurns, splitLastTurn } from "./turns.ts";

/** v1's own column names, used when the dataset gives no `columns`. */
export const V1_COLUMNS = { messages: "messages", chosen: "chosen_messages", rejected: "rejected_messages", tools: "tools" } as const;

const MEDIA_PARTS = ["image_url", "video_url", "audio_url"];

function columnsOf(attr: DatasetAttr) {
  const c = attr.columns === DEFAULT_COLUMNS ? {} : attr.columns;
  return {
    messages: c.messages ?? V1_COLUMNS.messages,
    chosen: c.chosen ?? V1_COLUMNS.chosen,
    rejected: c.rejected ?? V1_COLUMNS.rejected,
    tools: c.tools ?? V1_COLUMNS.tools,
  };
}

/** One v1 content part list to the turn's text and tool calls, or why not. */
function joinParts(content: unknown, where: string): Result<{ text: string; calls: Row[] }, RowProblem> {
  if (typeof content === "string") return ok({ text: content, calls: [] });
  if (!Array.isArray(content)) return err(problem("wrong-type", `${where}.content must be a list of {type, value} parts, found ${describe(content)}`));
  let text = "";
  const calls: Row[] = [];
  for (const [j, part] of content.entries()) {
    const at = `${where}.content[${j}]`;
    if (typeof part !== "object" || part === null || Array.isArray(part))
      return err(problem("wrong-type", `${at} must be a {type, value} part, found ${describe(part)}`));
    const { type, value } = part as Row;
    if (type === "text") {
      if (typeof value !== "string") return err(problem("wrong-type", `${at} is a text part whose value must be a string, found ${describe(value)}`));
      text += value;
    } else if (type === "tool_call") {
      const call = toolCall(value, at);
      if (call.isErr()) return err(call.error);
      calls.push(call.value);
    } else if (typeof type === "string" && MEDIA_PARTS.includes(type)) {
      return err(problem("unsupported-content", `${at} is an ${type} part: lft trains on text only (multimodal input is not supported yet)`));
    } else if (type === "reasoning") {
      return err(
        problem(
          "unsupported-content",
          `${at} is a reasoning part: lft's messages carry no separate thought yet (put it in the text as the template's <think> block)`,
        ),
      );
    } else {
      return err(
        problem(
          "unsupported-content",
          `${at} has part type ${typeof type === "string" ? JSON.stringify(type) : describe(type)}; v1 parts are text, reasoning, tool_call, image_url, video_url, audio_url`,
        ),
      );
    }
  }
  return ok({ text, calls });
}

/** A tool_call part's value: JSON text of {name, arguments}, as LF requires. */
function toolCall(value: unknown, at: string): Result<Row, RowProblem> {
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      return err(problem("wrong-type", `${at} is a tool_call part whose value is not valid JSON text`));
    }
  }
  const tc = parsed as Row | null;
  if (typeof tc !== "object" || tc === null || typeof tc.name !== "string" || !("arguments" in tc)) {
    return err(problem("wrong-type", `${at} is a tool_call part whose value must be {"name", "arguments"}, found ${describe(parsed)}`));
  }
  return ok({ function: { name: tc.name, arguments: tc.arguments } });
}

/**
 * The `loss_weight` of a message, checked against what lft trains: 1 (the default) on assistant turns, 0
 * on the others; lft has no per-turn weights (train_on_prompt and mask_history choose what is learned).
 */
function checkLossWeight(msg: Row, role: unknown, where: string): Result<void, RowProblem> {
  const w = msg.loss_weight;
  if (w === undefined || w === null) return ok(undefined);
  if (typeof w !== "number") return err(problem("wrong-type", `${where}.loss_weight must be a number, found ${describe(w)}`));
  const expected = role === "assistant" ? 1 : 0;
  if (w === expected) return ok(undefined);
  const how =
    role === "assistant"
      ? "lft trains every assistant turn (mask_history keeps only the last one)"
      : "lft learns no prompt turn (train_on_prompt learns them all)";
  return err(
    problem(
      "unsupported-content",
      `${where} (${typeof role === "string" ? role : describe(role)}) has loss_weight ${w}: ${how}; per-turn loss weights are not supported`,
    ),
  );
}

/** A v1 message list as OpenAI messages (text content, tool_calls), for alignOpenai. */
function toOpenai(list: unknown, column: string): Result<Row[], RowProblem> {
  if (list === undefined) return err(problem("missing-column", `missing column "${column}"`));
  if (!Array.isArray(list)) return err(problem("wrong-type", `column "${column}" must be a list of messages, found ${describe(list)}`));
  const out: Row[] = [];
  for (const [i, m] of list.entries()) {
    const where = `${column}[${i}]`;
    if (typeof m !== "object" || m === null || Array.isArray(m)) return err(problem("wrong-type", `${where} must be an object, found ${describe(m)}`));
    const msg = m as Row;
    const weight = checkLossWeight(msg, msg.role, where);
    if (weight.isErr()) return err(weight.error);
    const parts = joinParts(msg.content, where);
    if (parts.isErr()) return err(parts.error);
    const { text, calls } = parts.value;
    out.push(calls.length > 0 ? { role: msg.role, content: text, tool_calls: calls } : { role: msg.role, content: text });
  }
  return ok(out);
}

/** A v1 conversation in column `column`, aligned as OpenAI messages are (system first, tool turns merged). */
function alignV1(row: Row, column: string, tools: string): Result<AlignedTurns, RowProblem> {
  return toOpenai(row[column], column).andThen((messages) =>
    alignOpenai({ [column]: messages, [tools]: row[tools] }, { ...OPENAI_ATTR, columns: { messages: column, tools } }),
  );
}

/** How alignOpenai reads the converted rows: OpenAI's role names, columns given per call. */
const OPENAI_ATTR: DatasetAttr = {
  name: "v1",
  loadFrom: "file",
  path: "",
  formatting: "openai",
  ranking: false,
  split: "train",
  columns: DEFAULT_COLUMNS,
  tags: DEFAULT_TAGS,
};

export const v1Format: DatasetFormat = {
  produces: ["sft"],
  convert(value, attr) {
    const row = asRow(value);
    if (row.isErr()) return err(row.error);
    const cols = columnsOf(attr);
    return alignV1(row.value, cols.messages, cols.tools).andThen(({ messages, system, tools }) =>
      splitLastTurn(messages, cols.messages).map(({ prompt, response }) => ({ kind: "sft" as const, prompt, response, system, tools })),
    );
  },
};

/** A v1 preference row: two whole conversations that share every turn but the last (the answers). */
export function v1Pairwise(row: Row, attr: DatasetAttr) {
  const cols = columnsOf(attr);
  return alignV1(row, cols.chosen, cols.tools).andThen((chosen) =>
    alignV1(row, cols.rejected, cols.tools).andThen((rejected) => {
      const a = chosen.messages;
      const b = rejected.messages;
      if (a.length % 2 !== 0 || b.length % 2 !== 0 || a.length === 0) {
        return err(
          problem(
            "invalid-turns",
            `"${cols.chosen}" and "${cols.rejected}" must each end with the assistant's answer, found ${a.length} and ${b.length} turns`,
          ),
        );
      }
      const prompt = a.slice(0, -1);
      const same = (x: Message, y: Message) => x.role === y.role && x.content === y.content;
      if (b.length !== a.length || chosen.system !== rejected.system || !prompt.every((m, i) => same(m, b[i]!))) {
        return err(problem("invalid-turns", `"${cols.chosen}" and "${cols.rejected}" must share the same turns before their last (assistant) turn`));
      }
      return ok({ kind: "pairwise" as const, prompt, system: chosen.system, tools: chosen.tools, chosen: a.at(-1)!, rejected: b.at(-1)! });
    }),
  );
}

export default definePlugin({
  name: "lft-format-v1",
  setup: (api) =>
    api.register.datasets({
      name: "v1",
      doc: "LLaMA-Factory v1: messages with typed content parts (text, tool_call) and loss_weight; pairs as chosen_messages/rejected_messages",
      options: columnOptions,
      ...v1Format,
    }),
});
