// Tokenizer speed: encode MB/s of each fixture tokenizer on the first 1 MB of LLaMA-Factory's wiki_demo.txt,
// lft's encoder (cold: word cache emptied before each run; warm: cache filled) against the peer it
// replaces, @huggingface/tokenizers, measured in the same run on the same text (whose ids must agree).
// Also encodeBatch on one thread against parallelEncode (Bun Workers, start-up included) on a larger
// corpus made of the same text. Run: bun bench/tokenizer.bench.ts [--quick]
import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Tokenizer as PeerTokenizer } from "@huggingface/tokenizers";
import { Bench } from "tinybench";
import { loadTokenizer } from "../core/tokenizer/load.ts";
import { parallelEncode } from "../core/tokenizer/parallel.ts";
import { secondsPerRun, table, writeResults } from "./lib/results.ts";

const quick = process.argv.includes("--quick");
const FIXTURES = join(import.meta.dir, "..", "test", "fixtures", "tokenizers");
const WIKI = join(import.meta.dir, "..", "..", "shared", "fixtures", "llamafactory-data", "wiki_demo.txt");
// gemma: Gemma 1/2 (256k, no pre-tokenizer); gemma3: Gemma 3 (262k, a Split pre-tokenizer on spaces the
// normaliser has already replaced, and one vocabulary token, ">▁</", across a metaspace cut).
const NAMES = ["mistral-7b", "llama2", "phi-3-mini", "llama3", "qwen3", "gemma", "gemma3"].filter((n) => existsSync(join(FIXTURES, n)));
const WORKERS = 2;
const REPEAT = quick ? 2 : 8;

const bytes = readFileSync(WIKI).subarray(0, quick ? 200_000 : 1_000_000);
const text = new TextDecoder().decode(bytes).replace(/\uFFFD$/, ""); // a cut multi-byte character
const mb = Buffer.byteLength(text) / 1e6;
const sentences = text.split(/(?<=\. )/);

const loadBefore = loadavg()[0]!;
const rows: Record<string, string | number>[] = [];
const results: Record<string, unknown>[] = [];
for (const name of NAMES) {
  const dir = join(FIXTURES, name);
  let t0 = performance.now();
  const tok = loadTokenizer(dir)._unsafeUnwrap();
  const loadMs = performance.now() - t0;
  t0 = performance.now();
  const peer = new PeerTokenizer(
    JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
    JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
  );
  const peerLoadMs = performance.now() - t0;

  const ours = tok.encode(text, { addSpecialTokens: false });
  const theirs = peer.encode(text, { add_special_tokens: false }).ids;
  if (ours.length !== theirs.length || ours.some((id, i) => id !== theirs[i]))
    throw new Error(`${name}: lft and @huggingface/tokenizers ids differ on the benchmark text`);

  const bench = new Bench({ iterations: quick ? 2 : 5, time: 0, warmup: false });
  bench.add("lft cold", () => void tok.encode(text), { beforeEach: () => tok.clearWordCache() });
  bench.add("lft warm", () => void tok.encode(text), { beforeAll: () => void tok.encode(text) });
  await bench.run();
  const peerBench = new Bench({ iterations: 1, time: 0, warmup: false });
  peerBench.add("@huggingface/tokenizers", () => void peer.encode(text));
  await peerBench.run();

  // parallelEncode pays a fixed start-up (workers start, each loads the tokenizer), so it is measured on
  // a larger corpus (the sentences, REPEAT times), against encodeBatch on one thread with a fresh cache.
  const corpus = Array.from({ length: REPEAT }, () => sentences).flat();
  tok.clearWordCache();
  t0 = performance.now();
  const seq = tok.encodeBatch(corpus);
  const seqSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const par = (await parallelEncode(dir, corpus, { workers: WORKERS }))._unsafeUnwrap();
  const parSeconds = (performance.now() - t0) / 1000;
  if (par.length !== seq.length || par.some((ids, i) => ids.length !== seq[i]!.length || ids.some((id, j) => id !== seq[i]![j]))) {
    throw new Error(`${name}: parallel ids differ from sequential ones`);
  }

  const [cold, warm] = bench.tasks.map(secondsPerRun);
  const peerSeconds = secondsPerRun(peerBench.tasks[0]!);
  const r = {
    tokenizer: name,
    tokens: ours.length,
    loadMs: Math.round(loadMs),
    peerLoadMs: Math.round(peerLoadMs),
    peerMBps: +(mb / peerSeconds).toFixed(2),
    coldMBps: +(mb / cold!).toFixed(2),
    warmMBps: +(mb / warm!).toFixed(2),
    batchMBps: +((mb * REPEAT) / seqSeconds).toFixed(2),
    parallelMBps: +((mb * REPEAT) / parSeconds).toFixed(2),
    speedupCold: +(peerSeconds / cold!).toFixed(1),
  };
  results.push(r);
  rows.push(r);
  console.log(`${name}: done`);
}

console.log(
  `encode of the first ${mb.toFixed(2)} MB of wiki_demo.txt (MB/s; cold = empty word cache; batch/parallel: its ${sentences.length} sentences ×${REPEAT}, ${WORKERS} workers, start-up included)`,
);
console.log(table(rows));
const path = writeResults(quick ? "tokenizer-quick" : "tokenizer", {
  text: { file: "wiki_demo.txt", megabytes: +mb.toFixed(3), batchCorpus: `${sentences.length} sentences x${REPEAT}` },
  peer: "@huggingface/tokenizers 0.2.0 (pure JS), same text, ids checked equal",
  workers: WORKERS,
  loadAverage1m: { start: +loadBefore.toFixed(1), end: +loadavg()[0]!.toFixed(1) },
  results,
});
console.log(`wrote ${path}`);
