// Data preprocessing throughput: alpaca_en_demo.json (999 rows) through the whole in-memory pipeline
// (read, convert, template, tokenise, mask, cutoff) with real tokenizers and their templates, in
// samples/s and tokens/s. The ceiling in the same run is the tokenizer alone encoding the same texts
// (prompt and response strings, no templating): the pipeline's own overhead is the difference.
// Run: node_modules/.bin/bun bench/data.bench.ts [--quick]
import { join } from "node:path";
import { createRegistry, dataOptionSchema, loadTokenizer, prepareData, type Tokenizer, type TokenSeq, validateOptions } from "../lft.ts";
import { dataPlugins } from "../plugins/data/index.ts";
import { pretrainProcessor, supervisedProcessor } from "../plugins/stages/index.ts";
import { table, writeResults } from "./lib/results.ts";

const quick = process.argv.includes("--quick");
const repeats = quick ? 1 : 3;
const root = join(import.meta.dir, "..");
const dataDir = join(root, "test/fixtures/llamafactory-data");
const tokenizerDir = (name: string) => join(root, "test/fixtures/tokenizers", name);

const registry = createRegistry();
for (const p of dataPlugins) registry.use(p)._unsafeUnwrap();

const rows = (await Bun.file(join(dataDir, "alpaca_en_demo.json")).json()) as { instruction: string; input: string; output: string }[];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timePipeline(tokenizer: Tokenizer, template: string, kind: "pt" | "sft", extra: Record<string, unknown> = {}) {
  const options = validateOptions(
    dataOptionSchema,
    { dataset: ["alpaca_en_demo"], dataset_dir: dataDir, template, cutoff_len: 2048, ...extra },
    "bench",
  )._unsafeUnwrap();
  const times: number[] = [];
  let tokens = 0;
  for (let r = -1; r < repeats; r++) {
    const t0 = performance.now();
    const p = (await prepareData({ registry, tokenizer, processor: kind === "pt" ? pretrainProcessor : supervisedProcessor, options }))._unsafeUnwrap();
    if (r >= 0) times.push((performance.now() - t0) / 1000); // r = -1 warms up the JIT
    // Real tokens only: packed blocks' padding (segment 0) is not counted.
    tokens = (p.train as TokenSeq[]).reduce((a, s) => a + (s.segmentIds ? s.segmentIds.filter((g) => g !== 0).length : s.inputIds.length), 0);
  }
  return { seconds: median(times), tokens };
}

function timeEncodeOnly(tokenizer: Tokenizer) {
  const texts = rows.flatMap((r) => [r.input ? `${r.instruction}\n${r.input}` : r.instruction, r.output]);
  const times: number[] = [];
  let tokens = 0;
  for (let r = -1; r < repeats; r++) {
    const t0 = performance.now();
    tokens = 0;
    for (const t of texts) tokens += tokenizer.encode(t, { addSpecialTokens: false }).length;
    if (r >= 0) times.push((performance.now() - t0) / 1000);
  }
  return { seconds: median(times), tokens };
}

const results: Record<string, string | number>[] = [];
for (const [name, template] of [
  ["llama3", "llama3"],
  ["qwen3", "qwen"],
] as const) {
  const loaded = loadTokenizer(tokenizerDir(name));
  if (loaded.isErr()) throw loaded.error;
  const tokenizer = loaded.value;
  const ceiling = timeEncodeOnly(tokenizer);
  results.push({
    tokenizer: name,
    run: "encode only (ceiling)",
    "samples/s": Math.round(rows.length / ceiling.seconds),
    "tokens/s": Math.round(ceiling.tokens / ceiling.seconds),
    seconds: +ceiling.seconds.toFixed(3),
  });
  for (const [label, kind, extra] of [
    [`sft, template ${template}`, "sft", {}],
    [`sft, template ${template}, neat packing`, "sft", { neat_packing: true }],
    ["pt (LLaMA-Factory reads the instruction only), packed blocks", "pt", {}],
  ] as const) {
    const r = await timePipeline(tokenizer, template, kind, extra);
    results.push({
      tokenizer: name,
      run: label,
      "samples/s": Math.round(rows.length / r.seconds),
      "tokens/s": Math.round(r.tokens / r.seconds),
      seconds: +r.seconds.toFixed(3),
    });
  }
}

console.log(table(results));
const path = writeResults(quick ? "data-quick" : "data", {
  dataset: "alpaca_en_demo.json (999 rows)",
  note: "samples/s counts input rows per second; tokens/s counts tokens of the produced sequences (after templating, cutoff 2048); encode only = the tokenizer on the raw prompt and response texts",
  repeats,
  results,
});
console.log(`wrote ${path}`);
