// Real chat templates (test/fixtures/chat-templates, and those inside the llama3 / qwen3 configs) render
// a system + user + assistant + user conversation to the exact strings their formats define, written out
// here by hand from each format (and checked once against Jinja2 set up as transformers sets it up);
// generation prompt on and off; raise_exception becomes an Err; tools.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ChatTemplateOptions, renderChatTemplate } from "../../../core/tokenizer/chat-template.ts";
import type { ChatMessage } from "../../../core/tokenizer/tokenizer.ts";
import { fixture, TEMPLATES_DIR } from "./fixtures.ts";

const SYSTEM = "You are a helpful assistant.";
const CHAT: ChatMessage[] = [
  { role: "system", content: SYSTEM },
  { role: "user", content: "Hi!" },
  { role: "assistant", content: "Hello! How can I help?" },
  { role: "user", content: "Tell me a joke." },
];
const NO_SYSTEM = CHAT.slice(1);

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the weather",
    parameters: { type: "object", properties: { city: { type: "string", description: "City name" } }, required: ["city"] },
  },
};
/** json.dumps(WEATHER_TOOL) as Python writes it (", " and ": " separators), which transformers' tojson uses. */
const WEATHER_TOOL_JSON =
  '{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}}}';

const file = (name: string) => readFileSync(join(TEMPLATES_DIR, name), "utf8");
function render(template: string, messages: ChatMessage[], opts: ChatTemplateOptions = {}): string {
  const r = renderChatTemplate(template, messages, opts);
  if (r.isErr()) throw r.error;
  return r.value;
}

describe("Llama 3 family", () => {
  const head = (role: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n`;
  const turns = `${head("user")}Hi!<|eot_id|>${head("assistant")}Hello! How can I help?<|eot_id|>${head("user")}Tell me a joke.<|eot_id|>`;
  const llama31 = `<|begin_of_text|>${head("system")}Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n${SYSTEM}<|eot_id|>${turns}`;
  const opts = { bosToken: "<|begin_of_text|>", eosToken: "<|eot_id|>" };

  test("the template in llama3/tokenizer_config.json (always ends with the assistant header)", () => {
    const expected = `<|begin_of_text|>${head("system")}${SYSTEM}<|eot_id|>${turns}${head("assistant")}`;
    expect(render(fixture("llama3").chatTemplate!, CHAT, opts)).toBe(expected);
  });

  test("Llama 3.1 and 3.3, generation prompt off and on", () => {
    for (const name of ["meta-llama-Llama-3.1-8B-Instruct.jinja", "meta-llama-Llama-3.3-70B-Instruct.jinja"]) {
      expect(render(file(name), CHAT, opts)).toBe(llama31);
      expect(render(file(name), CHAT, { ...opts, addGenerationPrompt: true })).toBe(llama31 + head("assistant"));
    }
  });

  test("Llama 3.2 with date_string passed through extra (else it reads today's date)", () => {
    const t = file("meta-llama-Llama-3.2-3B-Instruct.jinja");
    expect(render(t, CHAT, { ...opts, addGenerationPrompt: true, extra: { date_string: "26 Jul 2024" } })).toBe(llama31 + head("assistant"));
  });

  test("Llama 3.1 with tools: ipython environment, tools in the first user message", () => {
    const got = render(file("meta-llama-Llama-3.1-8B-Instruct.jinja"), CHAT, { ...opts, tools: [WEATHER_TOOL] });
    const expected =
      `<|begin_of_text|>${head("system")}Environment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n${SYSTEM}<|eot_id|>` +
      `${head("user")}Given the following functions, please respond with a JSON for a function call with its proper arguments ` +
      `that best answers the given prompt.\n\nRespond in the format {"name": function name, "parameters": dictionary of argument name and its value}.` +
      `Do not use variables.\n\n${JSON.stringify(WEATHER_TOOL, null, 4)}\n\nHi!<|eot_id|>` +
      `${head("assistant")}Hello! How can I help?<|eot_id|>${head("user")}Tell me a joke.<|eot_id|>`;
    expect(got).toBe(expected);
  });
});

describe("ChatML family", () => {
  const chatml = (role: string, content: string) => `<|im_start|>${role}\n${content}<|im_end|>\n`;
  const body = chatml("user", "Hi!") + chatml("assistant", "Hello! How can I help?") + chatml("user", "Tell me a joke.");

  test("Qwen3 (qwen3/tokenizer_config.json): generation prompt off, on, and with thinking disabled", () => {
    const t = fixture("qwen3").chatTemplate!;
    const expected = chatml("system", SYSTEM) + body;
    expect(render(t, CHAT)).toBe(expected);
    expect(render(t, CHAT, { addGenerationPrompt: true })).toBe(`${expected}<|im_start|>assistant\n`);
    expect(render(t, CHAT, { addGenerationPrompt: true, extra: { enable_thinking: false } })).toBe(`${expected}<|im_start|>assistant\n<think>\n\n</think>\n\n`);
  });

  test("Qwen3 splits a final answer's reasoning into a <think> block", () => {
    const t = fixture("qwen3").chatTemplate!;
    const got = render(t, [
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "<think>\nadd them\n</think>\n\n4" },
    ]);
    expect(got).toBe(`${chatml("user", "2+2?")}<|im_start|>assistant\n<think>\nadd them\n</think>\n\n4<|im_end|>\n`);
  });

  test("Qwen2.5: default system prompt when none is given", () => {
    const t = file("Qwen-Qwen2.5-7B-Instruct.jinja");
    expect(render(t, CHAT, { addGenerationPrompt: true })).toBe(`${chatml("system", SYSTEM) + body}<|im_start|>assistant\n`);
    expect(render(t, NO_SYSTEM)).toBe(chatml("system", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.") + body);
  });

  test("Qwen2.5 with a tools list", () => {
    const t = file("Qwen-Qwen2.5-7B-Instruct.jinja");
    const system =
      `${SYSTEM}\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n` +
      `You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n${WEATHER_TOOL_JSON}\n</tools>\n\n` +
      `For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n` +
      `<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>`;
    expect(render(t, CHAT, { tools: [WEATHER_TOOL] })).toBe(chatml("system", system) + body);
  });

  test("Hermes 2 Pro tool use: tools, an assistant tool call and a tool response", () => {
    const t = file("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja");
    const messages: ChatMessage[] = [
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: "", tool_calls: [{ type: "function", function: { name: "get_weather", arguments: { city: "Paris" } } }] },
      { role: "tool", content: '{"temp": 20}' },
    ];
    const system =
      "You are a function calling AI model. You are provided with function signatures within <tools></tools> XML tags. " +
      "You may call one or more functions to assist with the user query. Don't make assumptions about what values to plug into functions. " +
      "Here are the available tools: <tools> " +
      '{"type": "function", "function": {"name": "get_weather", "description": "get_weather(city: str) - Get the weather\n\n' +
      '    Args:\n        city(str): City name", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}}' +
      " </tools>" +
      'Use the following pydantic model json schema for each tool call you will make: {"properties": {"name": {"title": "Name", "type": "string"}, "arguments": {"title": "Arguments", "type": "object"}}, "required": ["name", "arguments"], "title": "FunctionCall", "type": "object"}}\n' +
      "For each function call return a json object with function name and arguments within <tool_call></tool_call> XML tags as follows:\n" +
      '<tool_call>\n{"name": <function-name>, "arguments": <args-dict>}\n</tool_call><|im_end|>\n';
    const expected =
      "<|begin_of_text|><|im_start|>system\n" +
      system +
      chatml("user", "Weather in Paris?") +
      '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n' +
      '<|im_start|>tool\n<tool_response>\n{"temp": 20}\n</tool_response><|im_end|>' +
      "<|im_start|>assistant\n";
    expect(render(t, messages, { bosToken: "<|begin_of_text|>", tools: [WEATHER_TOOL], addGenerationPrompt: true })).toBe(expected);
  });
});

describe("other formats", () => {
  test("Phi-3.5: eos_token closes the text when there is no generation prompt", () => {
    const t = file("microsoft-Phi-3.5-mini-instruct.jinja");
    const expected = `<|system|>\n${SYSTEM}<|end|>\n<|user|>\nHi!<|end|>\n<|assistant|>\nHello! How can I help?<|end|>\n<|user|>\nTell me a joke.<|end|>\n`;
    expect(render(t, CHAT, { eosToken: "<|endoftext|>" })).toBe(`${expected}<|endoftext|>`);
    expect(render(t, CHAT, { eosToken: "<|endoftext|>", addGenerationPrompt: true })).toBe(`${expected}<|assistant|>\n`);
  });

  test("Gemma 2: renders without a system message, raises with one", () => {
    const t = file("google-gemma-2-2b-it.jinja");
    const expected =
      "<bos><start_of_turn>user\nHi!<end_of_turn>\n<start_of_turn>model\nHello! How can I help?<end_of_turn>\n" +
      "<start_of_turn>user\nTell me a joke.<end_of_turn>\n<start_of_turn>model\n";
    expect(render(t, NO_SYSTEM, { bosToken: "<bos>", addGenerationPrompt: true })).toBe(expected);
    const raised = renderChatTemplate(t, CHAT, { bosToken: "<bos>" });
    expect(raised.isErr() && raised.error.kind).toBe("raised");
    expect(raised.isErr() && raised.error.message).toBe("chat template raised: System role not supported");
    const order = renderChatTemplate(t, [
      { role: "user", content: "a" },
      { role: "user", content: "b" },
    ]);
    expect(order.isErr() && order.error.message).toMatch(/roles must alternate user\/assistant/);
  });

  test("Mistral Nemo: the system message joins the last user turn", () => {
    const t = file("mistralai-Mistral-Nemo-Instruct-2407.jinja");
    expect(render(t, CHAT, { bosToken: "<s>", eosToken: "</s>" })).toBe(
      `<s>[INST]Hi![/INST]Hello! How can I help?</s>[INST]${SYSTEM}\n\nTell me a joke.[/INST]`,
    );
  });

  test("DeepSeek R1 distills (Llama and Qwen): system first, <think> opens the answer", () => {
    for (const name of ["deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja", "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"]) {
      expect(render(file(name), CHAT, { bosToken: "<｜begin▁of▁sentence｜>", addGenerationPrompt: true })).toBe(
        `<｜begin▁of▁sentence｜>${SYSTEM}<｜User｜>Hi!<｜Assistant｜>Hello! How can I help?<｜end▁of▁sentence｜><｜User｜>Tell me a joke.<｜Assistant｜><think>\n`,
      );
    }
  });

  test("a template that does not parse is a syntax Err", () => {
    const r = renderChatTemplate("{% for m in messages %}{{ m.content }", CHAT);
    expect(r.isErr() && r.error.kind).toBe("syntax");
  });
});
