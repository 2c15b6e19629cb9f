// Concurrency: 16 openai clients on loopback at once, mixing greedy and seeded sampled requests,
// streaming and not, different lengths and stop strings. Every answer must equal the same request served
// alone, whether greedy requests are batched together (left-padded, one cache per batch) or served one
// at a time: requests never share a KV cache with another batch, nor a random stream.
import { afterAll, expect, test } from "bun:test";
import type OpenAI from "openai";
import { client, openStories, serve } from "./helpers.ts";

const model = openStories();
const batched = serve(model, { maxBatch: 8 });
const oneByOne = serve(model, { maxBatch: 1 });
afterAll(async () => {
  await batched.stop();
  await oneByOne.stop();
  model.close();
});

const prompts = ["Once upon a time", "Lily", "The cat sat", "Tom had a ball", "One day", "The sun", "A little bird", "Sam and Max"];

interface Ask {
  readonly content: string;
  readonly temperature: number;
  readonly seed: number;
  readonly stream: boolean;
  readonly maxTokens: number;
  readonly stop: string[];
}

const asks: Ask[] = Array.from({ length: 16 }, (_, i) => ({
  content: prompts[i % prompts.length]!,
  temperature: i % 4 === 3 ? 0.8 : 0,
  seed: 100 + i,
  stream: i % 2 === 1,
  maxTokens: 12 + (i % 5) * 6,
  stop: i % 8 === 5 ? ["e"] : [],
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

for (const [name, server, batches] of [
  ["batched (--max-batch 8)", batched, true],
  ["one at a time (--max-batch 1)", oneByOne, false],
] as const) {
  test(`16 concurrent clients each get the answer the same request gets alone: ${name}`, async () => {
    const alone: string[] = [];
    for (const a of asks) alone.push(await answer(client(server), a));
    expect(new Set(alone).size).toBeGreaterThan(4);
    expect(server.queue.stats.largestBatch).toBe(1);
    // Each concurrent request comes from its own client (its own connection).
    const together = await Promise.all(asks.map((a) => answer(client(server), a)));
    expect(together).toEqual(alone);
    expect(server.queue.pending).toBe(0);
    if (batches) expect(server.queue.stats.largestBatch).toBeGreaterThan(1);
    else expect(server.queue.stats.largestBatch).toBe(1);
  });
}
