// Concurrency: 16 openai clients on loopback at once, mixing greedy and seeded sampled requests,
// streaming and not. Every answer must equal the same request served alone: requests never share a KV
// cache or a random stream, whatever else is running.
import { afterAll, expect, test } from "bun:test";
import type OpenAI from "openai";
import { client, openStories, serve } from "./helpers.ts";

const model = openStories();
const server = serve(model);
afterAll(async () => {
  await server.stop();
  model.close();
});

const prompts = ["Once upon a time", "Lily", "The cat sat", "Tom had a ball", "One day", "The sun", "A little bird", "Sam and Max"];

interface Ask {
  readonly content: string;
  readonly temperature: number;
  readonly seed: number;
  readonly stream: boolean;
  readonly maxTokens: number;
}

const asks: Ask[] = Array.from({ length: 16 }, (_, i) => ({
  content: prompts[i % prompts.length]!,
  temperature: i % 4 === 3 ? 0.8 : 0,
  seed: 100 + i,
  stream: i % 2 === 1,
  maxTokens: 12 + (i % 5) * 6,
}));

async function answer(openai: OpenAI, a: Ask): Promise<string> {
  const body = {
    model: "stories260K",
    messages: [{ role: "user" as const, content: a.content }],
    temperature: a.temperature,
    seed: a.seed,
    max_tokens: a.maxTokens,
  };
  if (!a.stream) return (await openai.chat.completions.create(body)).choices[0]!.message.content!;
  let text = "";
  for await (const c of await openai.chat.completions.create({ ...body, stream: true })) text += c.choices[0]?.delta.content ?? "";
  return text;
}

test("16 concurrent clients each get the answer the same request gets alone", async () => {
  const alone: string[] = [];
  for (const a of asks) alone.push(await answer(client(server), a));
  expect(new Set(alone).size).toBeGreaterThan(4);
  // Each concurrent request comes from its own client (its own connection).
  const together = await Promise.all(asks.map((a) => answer(client(server), a)));
  expect(together).toEqual(alone);
  expect(server.queue.pending).toBe(0);
});
