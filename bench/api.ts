// lft api throughput and latency: 1, 4 and 16 concurrent openai clients on loopback against `lft api`
// serving stories260K (greedy, 64 new tokens per request), with greedy requests batched (--max-batch 8,
// the default) and served one at a time (--max-batch 1), beside the same prompts answered by `lft chat`
// one at a time (one process per prompt, as a user would run it; its answers must equal the server's).
// Run: node_modules/.bin/bun bench/api.ts   → bench/results/api.json
import { loadavg } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { blasInfo } from "../lft.ts";
import { table, writeResults } from "./lib/results.ts";

const repo = join(import.meta.dir, "..");
const MODEL = "examples/models/stories260K";
const MAX_TOKENS = 64;
const REQUESTS = 32;
const PROMPTS = Array.from(
  { length: 16 },
  (_, i) => `${["Once upon a time", "Lily", "The cat", "Tom and Sam"][i % 4]} ${["went", "saw", "had", "liked"][Math.floor(i / 4)]}`,
);
const load = loadavg()[0]!;

async function ask(openai: OpenAI, prompt: string): Promise<{ seconds: number; tokens: number; text: string }> {
  const t0 = performance.now();
  const r = await openai.chat.completions.create({
    model: "stories260K",
    messages: [{ role: "user", content: prompt }],
    temperature: 0,
    max_tokens: MAX_TOKENS,
  });
  return { seconds: (performance.now() - t0) / 1000, tokens: r.usage!.completion_tokens, text: r.choices[0]!.message.content! };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const served = new Map<string, string>();
const servedTokens = new Map<string, number>();
const rows: Record<string, string | number>[] = [];

async function serveAndMeasure(maxBatch: number): Promise<void> {
  const proc = Bun.spawn([join(repo, "lft"), "api", MODEL, "--template", "default", "--port", "0", "--device", "cpu", "--max-batch", String(maxBatch)], {
    cwd: repo,
    env: { ...process.env, LFT_API_KEY: "bench" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!/listening on (\S+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`lft api ended before listening:\n${out}`);
    out += new TextDecoder().decode(value);
  }
  const url = /listening on (\S+)/.exec(out)![1]!;
  // Warm-up (first forward builds RoPE tables, BLAS threads start).
  await ask(new OpenAI({ baseURL: `${url}/v1`, apiKey: "bench", maxRetries: 0 }), "Hello");
  for (const clients of [1, 4, 16]) {
    const queue = Array.from({ length: REQUESTS }, (_, i) => PROMPTS[i % PROMPTS.length]!);
    const latencies: number[] = [];
    let tokens = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: "bench", maxRetries: 0, timeout: 120_000 });
        for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
          const r = await ask(openai, p);
          latencies.push(r.seconds);
          tokens += r.tokens;
          if (served.has(p) && served.get(p) !== r.text) throw new Error(`"${p}": a different greedy answer at ${clients} clients, --max-batch ${maxBatch}`);
          served.set(p, r.text);
          servedTokens.set(p, r.tokens);
        }
      }),
    );
    const wall = (performance.now() - t0) / 1000;
    rows.push({
      what: `lft api --max-batch ${maxBatch}, ${clients} client${clients > 1 ? "s" : ""}`,
      requests: REQUESTS,
      tokens,
      tokens_per_s: +(tokens / wall).toFixed(1),
      latency_p50_s: +quantile(latencies, 0.5).toFixed(3),
      latency_p95_s: +quantile(latencies, 0.95).toFixed(3),
    });
  }
  proc.kill("SIGINT");
  await proc.exited;
}

await serveAndMeasure(8);
await serveAndMeasure(1);

// lft chat, one process per prompt: what answering the same prompts without a server costs.
const chatLatencies: number[] = [];
let chatTokens = 0;
let agree = 0;
const t0 = performance.now();
for (const prompt of PROMPTS) {
  const t = performance.now();
  const r = Bun.spawnSync([join(repo, "lft"), "chat", MODEL, "--prompt", prompt, "--template", "default", "--max-tokens", String(MAX_TOKENS)], { cwd: repo });
  chatLatencies.push((performance.now() - t) / 1000);
  // The reply is everything after the `> prompt` line, less the newline chat ends it with.
  const printed = r.stdout.toString();
  const text = printed.slice(printed.indexOf(`> ${prompt}\n`) + prompt.length + 3, -1);
  if (text === served.get(prompt)) agree++;
  // The same greedy answer (checked above) has the token count the server reported.
  chatTokens += servedTokens.get(prompt)!;
}
const chatWall = (performance.now() - t0) / 1000;
rows.push({
  what: "lft chat, one process per prompt",
  requests: PROMPTS.length,
  tokens: chatTokens,
  tokens_per_s: +(chatTokens / chatWall).toFixed(1),
  latency_p50_s: +quantile(chatLatencies, 0.5).toFixed(3),
  latency_p95_s: +quantile(chatLatencies, 0.95).toFixed(3),
});

console.log(table(rows));
console.log(`lft chat answers equal to lft api's: ${agree}/${PROMPTS.length}`);
console.log(
  writeResults("api", {
    model: `${MODEL} (260K parameters, template default)`,
    settings: { max_tokens: MAX_TOKENS, temperature: 0, requests_per_level: REQUESTS, distinct_prompts: PROMPTS.length },
    blas: blasInfo(),
    load_average_1m_at_start: load,
    chat_answers_equal_api: `${agree}/${PROMPTS.length}`,
    notes:
      "--max-batch 8 batches waiting greedy requests into one left-padded generation (one KV cache per batch); --max-batch 1 serves one request at a time. Every greedy answer was checked equal across all levels and both settings. lft chat's token counts are the server's usage for the same (equal) greedy answers. lft chat's latency includes process start and model load.",
    rows,
  }),
);
