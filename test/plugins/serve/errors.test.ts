// lft api's refusals, each an OpenAI-style error object with the status OpenAI uses: no or a wrong key
// (401), malformed JSON and wrong types (400 naming the parameter), an unknown model (404), a body over
// the cap (413), max_tokens beyond the context (400 context_length_exceeded); and a client that leaves
// mid-stream stops its generation and frees the queue.
import { afterAll, expect, test } from "bun:test";
import type { GenerateResult } from "../../../core/index.ts";
import type { ServedModel } from "../../../plugins/runner/index.ts";
import { client, KEY, openStories, rejection, serve } from "./helpers.ts";

const real = openStories();
let stepsRun = 0;
/** The real model, counting the generation steps it runs. */
const counted: ServedModel = {
  ...real,
  start(prompts, sampling, stop, onToken) {
    return real.start(prompts, sampling, stop, onToken).map(function* (steps): Generator<number, GenerateResult, void> {
      try {
        for (;;) {
          const n = steps.next();
          if (n.done) return n.value;
          stepsRun++;
          yield n.value;
        }
      } finally {
        steps.return(undefined as never);
      }
    });
  },
};
const server = serve(counted, { maxBodyBytes: 4096 });
afterAll(async () => {
  await server.stop();
  real.close();
});

const post = (body: string, key: string | null = KEY) =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(key !== null && { Authorization: `Bearer ${key}` }) },
    body,
  });

async function errorOf(r: Response): Promise<{ status: number; error: Record<string, unknown> }> {
  const body = (await r.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(typeof body.error.message).toBe("string");
  return { status: r.status, error: body.error };
}

const ok = JSON.stringify({ model: "stories260K", messages: [{ role: "user", content: "hi" }], max_tokens: 2 });

test("requests without the key, or with a wrong one, get 401 and nothing else", async () => {
  expect((await errorOf(await post(ok, null))).status).toBe(401);
  expect((await errorOf(await post(ok, "wrong"))).error.code).toBe("invalid_api_key");
  const models = await fetch(`${server.url}/v1/models`);
  expect(models.status).toBe(401);
  const viaClient = await rejection(client(server, "nope").chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "hi" }] }));
  expect(viaClient?.status).toBe(401);
  expect((await post(ok)).status).toBe(200);
});

test("malformed JSON and wrong types are 400s naming the parameter", async () => {
  expect(await errorOf(await post("{not json"))).toMatchObject({ status: 400, error: { code: "invalid_json", type: "invalid_request_error" } });
  expect(await errorOf(await post("[1,2]"))).toMatchObject({ status: 400 });
  const bad = (patch: Record<string, unknown>) => post(JSON.stringify({ ...JSON.parse(ok), ...patch }));
  expect(await errorOf(await bad({ temperature: "hot" }))).toMatchObject({ status: 400, error: { param: "temperature" } });
  expect(await errorOf(await bad({ temperature: 3 }))).toMatchObject({ status: 400, error: { param: "temperature" } });
  expect(await errorOf(await bad({ top_p: 0 }))).toMatchObject({ status: 400, error: { param: "top_p" } });
  expect(await errorOf(await bad({ max_tokens: 0 }))).toMatchObject({ status: 400, error: { param: "max_tokens" } });
  expect(await errorOf(await bad({ n: 1.5 }))).toMatchObject({ status: 400, error: { param: "n" } });
  expect(await errorOf(await bad({ n: 100 }))).toMatchObject({ status: 400, error: { param: "n" } });
  expect(await errorOf(await bad({ seed: "x" }))).toMatchObject({ status: 400, error: { param: "seed" } });
  expect(await errorOf(await bad({ stop: [1] }))).toMatchObject({ status: 400, error: { param: "stop" } });
  expect(await errorOf(await bad({ stream: "yes" }))).toMatchObject({ status: 400, error: { param: "stream" } });
  expect(await errorOf(await bad({ messages: [] }))).toMatchObject({ status: 400, error: { param: "messages" } });
  expect(await errorOf(await bad({ messages: [{ role: "wizard", content: "x" }] }))).toMatchObject({ status: 400, error: { param: "messages" } });
  expect(await errorOf(await bad({ messages: [{ role: "user", content: 5 }] }))).toMatchObject({ status: 400 });
  expect(
    await errorOf(
      await bad({
        messages: [
          { role: "user", content: "a" },
          { role: "assistant", content: "b" },
        ],
      }),
    ),
  ).toMatchObject({ status: 400 });
  expect(await errorOf(await bad({ frequency_penalty: 0.5 }))).toMatchObject({ status: 400, error: { param: "frequency_penalty" } });
  expect(await errorOf(await bad({ logit_bias: {} }))).toMatchObject({ status: 400, error: { param: "logit_bias", code: "unknown_parameter" } });
  // Neutral values of parameters this server does not implement are fine.
  expect((await bad({ frequency_penalty: 0, user: "me" })).status).toBe(200);
});

test("an unknown model is 404, an unknown route 404, a wrong method 405", async () => {
  const missing = await rejection(client(server).chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }));
  expect(missing).toMatchObject({ status: 404, code: "model_not_found" });
  expect((await errorOf(await fetch(`${server.url}/v1/models/gpt-4o`, { headers: { Authorization: `Bearer ${KEY}` } }))).status).toBe(404);
  expect((await errorOf(await fetch(`${server.url}/v1/completions`, { method: "POST", headers: { Authorization: `Bearer ${KEY}` } }))).status).toBe(404);
  expect((await errorOf(await fetch(`${server.url}/v1/chat/completions`, { headers: { Authorization: `Bearer ${KEY}` } }))).status).toBe(405);
});

test("a body over the cap is 413; max_tokens beyond the context is context_length_exceeded", async () => {
  const big = JSON.stringify({ model: "stories260K", messages: [{ role: "user", content: "x".repeat(5000) }] });
  expect(await errorOf(await post(big))).toMatchObject({ status: 413, error: { code: "request_too_large" } });
  const tooLong = await rejection(
    client(server).chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "hi" }], max_tokens: 600 }),
  );
  expect(tooLong).toMatchObject({ status: 400, code: "context_length_exceeded" });
  const prompt = await rejection(client(server).chat.completions.create({ model: "stories260K", messages: [{ role: "user", content: "word ".repeat(700) }] }));
  expect(prompt).toMatchObject({ status: 400, code: "context_length_exceeded" });
});

test("a client that leaves mid-stream stops its generation and frees the queue for the next request", async () => {
  const abort = new AbortController();
  const before = stepsRun;
  const r = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: "stories260K", messages: [{ role: "user", content: "Once" }], max_tokens: 480, temperature: 0, stream: true }),
    signal: abort.signal,
  });
  const reader = r.body!.getReader();
  await reader.read();
  await reader.read();
  abort.abort();
  const deadline = Date.now() + 10_000;
  while (server.queue.pending > 0 && Date.now() < deadline) await Bun.sleep(5);
  expect(server.queue.pending).toBe(0);
  // It stopped within a few steps of the disconnect, far from the 480 asked.
  expect(stepsRun - before).toBeLessThan(100);
  const next = await client(server).chat.completions.create({
    model: "stories260K",
    messages: [{ role: "user", content: "hi" }],
    max_tokens: 3,
    temperature: 0,
  });
  expect(next.usage!.completion_tokens).toBe(3);
});
