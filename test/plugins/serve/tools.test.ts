// Tool calls in OpenAI's shape: offered tools and a conversation with assistant tool_calls and tool results
// are rendered through the template exactly as LLaMA-Factory's encoder renders its function/observation
// turns, and a reply written in the template's tool format comes back as tool_calls (streamed too). A
// random tiny model never writes a call, so the reply side uses a scripted model: the real template and
// renderer, with generation replaced by a fixed reply.
import { afterAll, expect, test } from "bun:test";
import { ok } from "neverthrow";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import type { GenerateResult, Message } from "../../../core/index.ts";
import { loadTokenizer, validateOptions } from "../../../core/index.ts";
import { openServedModel, type ServedModel } from "../../../plugins/runner/index.ts";
import { client, MODEL_DIR, openStories, quietIO, registry, rejection, serve } from "./helpers.ts";

const real = openStories();
let reply = "";
const seenPrompts: number[][] = [];
/** The real model's rendering; generation replaced by `reply`, streamed a few characters at a time. */
const scripted: ServedModel = {
  ...real,
  render: real.render,
  start(prompts, _sampling, _stop, onToken) {
    seenPrompts.push([...prompts[0]!]);
    const text = reply;
    function* steps(): Generator<number, GenerateResult, void> {
      for (let i = 0; i < text.length; i += 4) {
        onToken?.({ row: 0, token: 0, index: i / 4, text: text.slice(i, i + 4) });
        yield i / 4;
      }
      return { tokens: [Array.from({ length: Math.ceil(text.length / 4) }, () => 0)], texts: [text], finishReasons: ["eos"] };
    }
    return ok(steps());
  },
};
const realServer = serve(real);
const scriptedServer = serve(scripted);
afterAll(async () => {
  await realServer.stop();
  await scriptedServer.stop();
  real.close();
});

const tools: ChatCompletionTool[] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "The weather in a city",
      parameters: { type: "object", properties: { city: { type: "string", description: "the city" } }, required: ["city"] },
    },
  },
];

/** LLaMA-Factory's encoding of the same conversation through template default, tools as its API passes them. */
function lfPrompt(messages: Message[]): number[] {
  const tokenizer = loadTokenizer(MODEL_DIR)._unsafeUnwrap();
  const entry = registry.get("templates", "default")._unsafeUnwrap();
  const encoder = entry.create(tokenizer, validateOptions(entry.options ?? {}, {}, "default")._unsafeUnwrap())._unsafeUnwrap();
  const toolsText = JSON.stringify(tools.map((t) => (t as { function: unknown }).function));
  return encoder.encodeOneturn([...messages, { role: "assistant", content: "" }], "", toolsText)._unsafeUnwrap()[0];
}

test("a reply in the template's tool format comes back as tool_calls with finish_reason tool_calls", async () => {
  reply = 'Action: get_weather\nAction Input: {"city": "Paris"}';
  const r = await client(scriptedServer).chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "Weather in Paris?" }], tools });
  const choice = r.choices[0]!;
  expect(choice.finish_reason).toBe("tool_calls");
  expect(choice.message.content).toBeNull();
  const call = choice.message.tool_calls![0]!;
  expect(call.type).toBe("function");
  expect(call.id).toMatch(/^call_/);
  if (call.type !== "function") throw new Error("not a function call");
  expect(call.function.name).toBe("get_weather");
  expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
  // The prompt holds LLaMA-Factory's tool description, rendered by the template.
  expect(seenPrompts.at(-1)).toEqual(lfPrompt([{ role: "user", content: "Weather in Paris?" }]));
});

test("the round trip: assistant tool_calls and the tool's result render as LLaMA-Factory's function and observation turns", async () => {
  reply = "It is sunny in Paris.";
  const messages: ChatCompletionMessageParam[] = [
    { role: "user", content: "Weather in Paris?" },
    { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } }] },
    { role: "tool", tool_call_id: "call_1", content: '{"sky": "sunny"}' },
  ];
  const r = await client(scriptedServer).chat.completions.create({ model: "stories260K", messages, tools });
  expect(r.choices[0]!.message.content).toBe("It is sunny in Paris.");
  expect(r.choices[0]!.finish_reason).toBe("stop");
  expect(seenPrompts.at(-1)).toEqual(
    lfPrompt([
      { role: "user", content: "Weather in Paris?" },
      { role: "function", content: '[{"name": "get_weather", "arguments": {"city": "Paris"}}]' },
      { role: "observation", content: '{"sky": "sunny"}' },
    ]),
  );
});

test("streamed with tools, the call arrives as a tool_calls delta", async () => {
  reply = 'Action: get_weather\nAction Input: {"city": "Oslo"}';
  const stream = await client(scriptedServer).chat.completions.create({
    model: "stories260K",
    messages: [{ role: "user", content: "Oslo?" }],
    tools,
    stream: true,
  });
  const calls: { name?: string; arguments?: string }[] = [];
  let finish: string | null = null;
  let content = "";
  for await (const c of stream)
    for (const ch of c.choices) {
      for (const t of ch.delta.tool_calls ?? []) calls.push({ ...t.function });
      content += ch.delta.content ?? "";
      finish = ch.finish_reason ?? finish;
    }
  expect(content).toBe("");
  expect(calls).toEqual([{ name: "get_weather", arguments: '{"city":"Oslo"}' }]);
  expect(finish).toBe("tool_calls");
});

test("the real model with tools: the tool prompt is in its input, a plain reply stays content; tool_choice none drops the tools", async () => {
  const openai = client(realServer);
  const ask = [{ role: "user" as const, content: "Weather?" }];
  const plain = await openai.chat.completions.create({ model: "stories260K", messages: ask, temperature: 0, max_tokens: 8 });
  const withTools = await openai.chat.completions.create({ model: "stories260K", messages: ask, tools, temperature: 0, max_tokens: 8 });
  const none = await openai.chat.completions.create({ model: "stories260K", messages: ask, tools, tool_choice: "none", temperature: 0, max_tokens: 8 });
  expect(withTools.usage!.prompt_tokens).toBe(lfPrompt(ask).length);
  expect(withTools.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens + 50);
  expect(typeof withTools.choices[0]!.message.content).toBe("string");
  expect(none.usage!.prompt_tokens).toBe(plain.usage!.prompt_tokens);
});

test("a tool message with no call before it, and a forced tool_choice, are refused with 400", async () => {
  const openai = client(realServer);
  const orphan = openai.chat.completions.create({
    model: "stories260K",
    messages: [
      { role: "user", content: "hi" },
      { role: "tool", tool_call_id: "x", content: "{}" },
    ],
  });
  expect(await rejection(orphan)).toMatchObject({ status: 400, param: "messages" });
  const forced = openai.chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "hi" }], tools, tool_choice: "required" });
  expect(await rejection(forced)).toMatchObject({ status: 400, param: "tool_choice" });
});

test("tools with a model served without a tool-capable template are refused, naming --template", async () => {
  const raw = openServedModel({ path: MODEL_DIR, device: "cpu" }, registry, quietIO)._unsafeUnwrap();
  const rawServer = serve(raw);
  try {
    expect(raw.toolFormat).toBeUndefined();
    const refused = await rejection(client(rawServer).chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "hi" }], tools }));
    expect(refused).toMatchObject({ status: 400, param: "tools" });
    expect(String((refused as { message?: string }).message)).toContain("--template");
  } finally {
    await rawServer.stop();
    raw.close();
  }
});
