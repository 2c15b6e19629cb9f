// Tool formats (LLaMA-Factory's tool_utils): how a list of tools is described in the system prompt
// and how an assistant's function calls are written. Text matches LLaMA-Factory byte for byte,
// except that llama3's "Today Date" is a fixed option (default "26 Jul 2024", as in Llama 3.1's own
// chat template) instead of the clock, so encodings are reproducible.
import { pyJsonDumps } from "./pyjson.ts";

export type ToolFormat = "default" | "qwen" | "qwen3_5" | "llama3" | "mistral" | "glm4";
export const TOOL_FORMATS: readonly ToolFormat[] = ["default", "qwen", "qwen3_5", "llama3", "mistral", "glm4"];

export interface FunctionCall {
  readonly name: string;
  /** The arguments as Python's json.dumps wrote them. */
  readonly arguments: string;
}

type Tool = Record<string, unknown>;

export interface ToolUtils {
  formatTools(tools: Tool[], opts: { date: string }): string;
  formatCalls(calls: FunctionCall[]): string;
}

const DEFAULT_TOOL_PROMPT = (toolText: string, toolNames: string) =>
  "You have access to the following tools:\n" +
  toolText +
  "Use the following format if using a tool:\n```\n" +
  `Action: tool name (one of [${toolNames}])\n` +
  "Action Input: the input to the tool, in a JSON format representing the kwargs " +
  '(e.g. ```{"input": "hello world", "num_beams": 5}```)\n```\n';

const QWEN_TOOL_PROMPT = (toolText: string) =>
  "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
  "You are provided with function signatures within <tools></tools> XML tags:\n<tools>" +
  toolText +
  "\n</tools>\n\nFor each function call, return a json object with function name and arguments within " +
  '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>';

const QWEN35_TOOL_PROMPT = (toolText: string) =>
  "\n\n# Tools\n\nYou have access to the following functions:\n\n<tools>" +
  toolText +
  "\n</tools>\n\nIf you choose to call a function ONLY reply in the following format with NO suffix:\n\n" +
  "<tool_call>\n<function=example_function_name>\n<parameter=example_parameter_1>\nvalue_1\n</parameter>\n" +
  "<parameter=example_parameter_2>\nThis is the value for the second parameter\nthat can span\nmultiple lines\n" +
  "</parameter>\n</function>\n</tool_call>\n\n<IMPORTANT>\nReminder:\n" +
  "- Function calls MUST follow the specified format: " +
  "an inner <function=...></function> block must be nested within <tool_call></tool_call> XML tags\n" +
  "- Required parameters MUST be specified\n" +
  "- You may provide optional reasoning for your function call in natural language " +
  "BEFORE the function call, but NOT after\n" +
  "- If there is no function call available, answer the question like normal with your current knowledge " +
  "and do not tell the user about function calls\n</IMPORTANT>";

const LLAMA3_TOOL_PROMPT = (date: string, toolText: string) =>
  `Cutting Knowledge Date: December 2023\nToday Date: ${date}\n\n` +
  "You have access to the following functions. To call a function, please respond with JSON for a function call. " +
  'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}. ' +
  "Do not use variables.\n\n" +
  toolText;

const GLM4_TOOL_PROMPT = (toolText: string) =>
  "你是一个名为 ChatGLM 的人工智能助手。你是基于智谱 AI 公司训练的语言模型 GLM-4 模型开发的，" +
  "你的任务是针对用户的问题和要求提供适当的答复和支持。\n\n# 可用工具" +
  toolText;

const unwrap = (t: Tool): Tool => (t.type === "function" ? ((t.function ?? {}) as Tool) : t);
const wrap = (t: Tool): Tool => (t.type === "function" ? t : { type: "function", function: t });
const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));

const defaultTools: ToolUtils = {
  formatTools(tools) {
    let toolText = "";
    const names: string[] = [];
    for (const raw of tools) {
      const tool = unwrap(raw);
      const params = (tool.parameters ?? {}) as Tool;
      const required = (params.required ?? []) as unknown[];
      let paramText = "";
      for (const [name, p] of Object.entries((params.properties ?? {}) as Record<string, Tool>)) {
        const req = required.includes(name) ? ", required" : "";
        const en = Array.isArray(p.enum) && p.enum.length > 0 ? `, should be one of [${p.enum.join(", ")}]` : "";
        const items = p.items ? `, where each item should be ${str((p.items as Tool).type)}` : "";
        paramText += `  - ${name} (${str(p.type)}${req}): ${str(p.description)}${en}${items}\n`;
      }
      toolText += `> Tool Name: ${str(tool.name)}\nTool Description: ${str(tool.description)}\nTool Args:\n${paramText}\n`;
      names.push(str(tool.name));
    }
    return DEFAULT_TOOL_PROMPT(toolText, names.join(", "));
  },
  formatCalls: (calls) => calls.map((c) => `Action: ${c.name}\nAction Input: ${c.arguments}`).join("\n"),
};

const qwenTools: ToolUtils = {
  formatTools: (tools) => QWEN_TOOL_PROMPT(tools.map((t) => `\n${pyJsonDumps(wrap(t))}`).join("")),
  formatCalls: (calls) => calls.map((c) => `<tool_call>\n${pyJsonDumps({ name: c.name, arguments: JSON.parse(c.arguments) })}\n</tool_call>`).join("\n"),
};

/** Qwen 3.5: tools as unwrapped JSON lines, calls as <function=NAME> with one <parameter=KEY> per argument. */
const qwen35Tools: ToolUtils = {
  formatTools: (tools) => QWEN35_TOOL_PROMPT(tools.map((t) => `\n${pyJsonDumps(unwrap(t))}`).join("")),
  formatCalls: (calls) =>
    calls
      .map((c) => {
        let text = `<tool_call>\n<function=${c.name}>`;
        for (const [key, value] of Object.entries(JSON.parse(c.arguments) as Record<string, unknown>)) {
          text += `\n<parameter=${key}>\n${typeof value === "string" ? value : pyJsonDumps(value)}\n</parameter>`;
        }
        return `${text}\n</function>\n</tool_call>`;
      })
      .join("\n"),
};

const llama3Tools: ToolUtils = {
  formatTools: (tools, { date }) => LLAMA3_TOOL_PROMPT(date, tools.map((t) => `${pyJsonDumps(wrap(t), 4)}\n\n`).join("")),
  formatCalls(calls) {
    const objs = calls.map((c) => ({ name: c.name, parameters: JSON.parse(c.arguments) as unknown }));
    return pyJsonDumps(objs.length === 1 ? objs[0] : objs);
  },
};

const mistralTools: ToolUtils = {
  formatTools: (tools) => `[AVAILABLE_TOOLS] ${pyJsonDumps(tools.map(wrap))}[/AVAILABLE_TOOLS]`,
  formatCalls: (calls) => pyJsonDumps(calls.map((c) => ({ name: c.name, arguments: JSON.parse(c.arguments) as unknown }))),
};

/** GLM-4: each tool as an indented JSON section; one call per reply, written as its name, a newline, its arguments. */
const glm4Tools: ToolUtils = {
  formatTools: (tools) =>
    GLM4_TOOL_PROMPT(
      tools
        .map(unwrap)
        .map((t) => `\n\n## ${str(t.name)}\n\n${pyJsonDumps(t, 4)}\n在调用上述函数时，请使用 Json 格式表示调用的参数。`)
        .join(""),
    ),
  formatCalls(calls) {
    if (calls.length > 1) throw new Error("GLM-4 does not support parallel functions (one call per reply)");
    return calls.map((c) => `${c.name}\n${c.arguments}`).join("");
  },
};

export const TOOL_UTILS: Readonly<Record<ToolFormat, ToolUtils>> = {
  default: defaultTools,
  qwen: qwenTools,
  qwen3_5: qwen35Tools,
  llama3: llama3Tools,
  mistral: mistralTools,
  glm4: glm4Tools,
};

/** A function message's JSON ({name, arguments} or a list of them) as calls; throws on bad JSON. */
export function parseCalls(content: string): FunctionCall[] {
  const parsed = JSON.parse(content) as unknown;
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.map((c) => {
    const call = c as Record<string, unknown>;
    if (typeof call !== "object" || call === null || typeof call.name !== "string" || !("arguments" in call)) {
      throw new Error(`a function call must be {"name": ..., "arguments": ...}, found ${JSON.stringify(c)}`);
    }
    return { name: call.name, arguments: pyJsonDumps(call.arguments) };
  });
}

const callRe = {
  default: /Action:\s*([a-zA-Z0-9_]+)\s*Action Input:\s*([\s\S]+?)(?=\s*Action:|\s*$)/g,
  qwen: /<tool_call>([\s\S]+?)<\/tool_call>/g,
  qwen35: /<function=([^>\n]+)>([\s\S]*?)<\/function>/g,
  qwen35Param: /<parameter=([^>\n]+)>\n?([\s\S]*?)\n?<\/parameter>/g,
};

function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Calls as `{name, <argsKey>}` objects (one or a list); null when any entry has another shape. */
function objectCalls(parsed: unknown, argsKey: string): FunctionCall[] | null {
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const calls: FunctionCall[] = [];
  for (const c of list) {
    if (!isObject(c) || typeof c.name !== "string" || !isObject(c[argsKey])) return null;
    calls.push({ name: c.name, arguments: JSON.stringify(c[argsKey]) });
  }
  return calls.length > 0 ? calls : null;
}

/**
 * The function calls in a model's reply, read back in the tool format that wrote them (LLaMA-Factory's
 * tool extractors); arguments as JSON text. Null when the reply is plain text (no call in that format).
 */
export function extractCalls(format: ToolFormat, reply: string): FunctionCall[] | null {
  const text = reply.trim();
  if (format === "default") {
    const calls: FunctionCall[] = [];
    for (const m of text.matchAll(callRe.default)) {
      const args = jsonOf(m[2]!.trim());
      if (!isObject(args)) return null;
      calls.push({ name: m[1]!, arguments: JSON.stringify(args) });
    }
    return calls.length > 0 ? calls : null;
  }
  if (format === "qwen") {
    const calls: FunctionCall[] = [];
    for (const m of text.matchAll(callRe.qwen)) {
      const one = objectCalls(jsonOf(m[1]!.trim()), "arguments");
      if (one === null) return null;
      calls.push(...one);
    }
    return calls.length > 0 ? calls : null;
  }
  if (format === "qwen3_5") {
    const calls: FunctionCall[] = [];
    for (const m of text.matchAll(callRe.qwen35)) {
      const args: Record<string, unknown> = {};
      for (const p of m[2]!.matchAll(callRe.qwen35Param)) {
        const value = jsonOf(p[2]!);
        args[p[1]!] = value === undefined ? p[2]! : value;
      }
      calls.push({ name: m[1]!.trim(), arguments: JSON.stringify(args) });
    }
    return calls.length > 0 ? calls : null;
  }
  if (format === "glm4") {
    // The tool's name, a newline, its arguments as a JSON object; anything else is plain text.
    const nl = text.indexOf("\n");
    const args = nl < 0 ? undefined : jsonOf(text.slice(nl + 1).trim());
    return isObject(args) ? [{ name: text.slice(0, nl), arguments: JSON.stringify(args) }] : null;
  }
  return objectCalls(jsonOf(text), format === "llama3" ? "parameters" : "arguments");
}
