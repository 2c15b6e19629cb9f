// lft api through the official openai client on loopback with stories260K: non-streaming and streaming
// answers (the same text as `lft chat`), stop, n, seed reproducibility, usage, max_tokens, model listing.
import { afterAll, expect, test } from "bun:test";
import type { CommandEntry } from "../../../core/index.ts";
import { client, MODEL_DIR, openStories, quietIO, registry, repo, serve } from "./helpers.ts";

const model = openStories();
const server = serve(model);
const openai = client(server);
afterAll(async () => {
  await server.stop();
  model.close();
});

const ask = (content: string) => [{ role: "user" as const, content }];

/** What `lft chat --prompt` answers (its reply line), for the same template and token budget. */
async function chatAnswer(prompt: string, maxTokens: number): Promise<string> {
  let out = "";
  const chat = registry.get("commands", "chat")._unsafeUnwrap() as CommandEntry;
  const io = { ...quietIO, stdout: (s: string) => (out += s), cwd: repo };
  const code = await chat.run([MODEL_DIR, "--prompt", prompt, "--template", "default", "--max-tokens", String(maxTokens)], io, { registry, mode: "cli" });
  expect(code).toBe(0);
  // The reply is everything after the `> prompt` line, less the newline chat ends it with.
  return out.slice(out.indexOf(`> ${prompt}\n`) + prompt.length + 3, -1);
}

test("/v1/models lists the served folder's name", async () => {
  const list = await openai.models.list();
  expect(list.data.map((m) => m.id)).toEqual(["stories260K"]);
  expect((await openai.models.retrieve("stories260K")).id).toBe("stories260K");
});

test("a greedy completion is lft chat's answer, with usage and finish_reason", async () => {
  const r = await openai.chat.completions.create({ model: "stories260K", messages: ask("Once upon a time"), temperature: 0, max_tokens: 24 });
  expect(r.object).toBe("chat.completion");
  expect(r.choices).toHaveLength(1);
  const text = r.choices[0]!.message.content!;
  expect(text.length).toBeGreaterThan(0);
  expect(text).toBe(await chatAnswer("Once upon a time", 24));
  expect(r.choices[0]!.finish_reason).toBe("length");
  expect(r.usage!.completion_tokens).toBe(24);
  expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + 24);
});

test("streaming sends the same text in chunks, then the finish reason, usage and [DONE]", async () => {
  const plain = await openai.chat.completions.create({ model: "stories260K", messages: ask("Lily went"), temperature: 0, max_tokens: 30 });
  const stream = await openai.chat.completions.create({
    model: "stories260K",
    messages: ask("Lily went"),
    temperature: 0,
    max_tokens: 30,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let chunks = 0;
  let finish: string | null = null;
  let usage: { completion_tokens: number } | undefined;
  for await (const c of stream) {
    chunks++;
    if (c.usage) usage = c.usage;
    for (const ch of c.choices) {
      text += ch.delta.content ?? "";
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  expect(chunks).toBeGreaterThan(5);
  expect(text).toBe(plain.choices[0]!.message.content!);
  expect(finish).toBe("length");
  expect(usage!.completion_tokens).toBe(30);
});

test("stop cuts the reply before the stop string, with finish_reason stop", async () => {
  const full = (await openai.chat.completions.create({ model: "stories260K", messages: ask("Once upon a time"), temperature: 0, max_tokens: 40 })).choices[0]!
    .message.content!;
  // A stop string taken from the middle of the greedy reply.
  const stop = full.slice(8, 11);
  const at = full.indexOf(stop);
  const r = await openai.chat.completions.create({
    model: "stories260K",
    messages: ask("Once upon a time"),
    temperature: 0,
    max_tokens: 40,
    stop: [stop, "zzzz"],
  });
  expect(r.choices[0]!.message.content).toBe(full.slice(0, at));
  expect(r.choices[0]!.finish_reason).toBe("stop");
});

test("n choices: sampled ones differ, the same seed gives the same choices again, greedy ones agree", async () => {
  const req = { model: "stories260K", messages: ask("The dog"), temperature: 1, max_tokens: 16, n: 3, seed: 1234 };
  const a = await openai.chat.completions.create(req);
  const b = await openai.chat.completions.create(req);
  const c = await openai.chat.completions.create({ ...req, seed: 99 });
  const texts = (r: typeof a) => r.choices.map((ch) => ch.message.content);
  expect(a.choices.map((ch) => ch.index)).toEqual([0, 1, 2]);
  expect(texts(b)).toEqual(texts(a));
  expect(new Set(texts(a)).size).toBeGreaterThan(1);
  expect(texts(c)).not.toEqual(texts(a));
  expect(a.usage!.completion_tokens).toBe(48);
  const greedy = await openai.chat.completions.create({ ...req, temperature: 0 });
  expect(new Set(texts(greedy)).size).toBe(1);
});

test("top_p near 0 samples the most likely token: the greedy answer", async () => {
  const greedy = await openai.chat.completions.create({ model: "stories260K", messages: ask("Tom"), temperature: 0, max_tokens: 12 });
  const narrow = await openai.chat.completions.create({ model: "stories260K", messages: ask("Tom"), temperature: 1, top_p: 1e-6, max_tokens: 12, seed: 5 });
  expect(narrow.choices[0]!.message.content).toBe(greedy.choices[0]!.message.content!);
});

test("without max_tokens a reply may run to the model's context, never past it", async () => {
  const r = await openai.chat.completions.create({ model: "stories260K", messages: ask("Hi"), temperature: 0 });
  expect(r.usage!.total_tokens).toBeLessThanOrEqual(512);
  if (r.choices[0]!.finish_reason === "length") expect(r.usage!.total_tokens).toBe(512);
});

test("a system message becomes the template's system prompt", async () => {
  const plain = await openai.chat.completions.create({ model: "stories260K", messages: ask("Hi"), temperature: 0, max_tokens: 1 });
  const withSystem = await openai.chat.completions.create({
    model: "stories260K",
    messages: [{ role: "system", content: "You are brief." }, ...ask("Hi")],
    temperature: 0,
    max_tokens: 1,
  });
  expect(withSystem.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens);
});
