// LLaMA-Factory's Table 4 layout (memory, throughput, perplexity per fine-tuning method), continued
// pre-training on wiki text (examples/data/wiki.train.txt), in two passes over the same rows:
// - memory and throughput on a ~22M-parameter Llama (bench/train.bench.ts's shape, with stories260K's
//   512-token vocabulary so the shipped tokenizer reads the data), random weights written once to a
//   temporary checkpoint: there, weights, gradients and optimizer state are most of the bytes, as on the
//   7B models of LF's table (on a 260K model the activations are);
// - held-out loss and perplexity on the shipped stories260K (a trained starting point: perplexities of a
//   random 22M model after a few steps say nothing), evaluated on examples/data/wiki.valid.txt.
// Every row of both passes uses the same steps, batch, length and learning rate. Each row is a recipe run
// by lft's command line in a fresh process (bench/lib/methods-row.ts), so rows share no heap, allocator
// cache or peak. Columns: allocator peak bytes and process peak RSS (VmHWM), each per model parameter,
// training tokens/s as the run reports it, held-out loss and perplexity.
// Never part of CI. Run: bun bench/methods.bench.ts [--quick]   (writes bench/results/methods.json;
// --quick: fewer steps, writes methods-quick.json)
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { blasInfo, createRegistry, familyByName, saveModel } from "../lft.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { table, writeResults } from "./lib/results.ts";

const quick = process.argv.includes("--quick");
const ROOT = join(import.meta.dir, "..");
const MODEL = join(ROOT, "examples/models/stories260K");
const TRAIN = join(ROOT, "examples/data/wiki.train.txt");
const VALID = join(ROOT, "examples/data/wiki.valid.txt");
/** The perplexity pass (stories260K). */
const RUN = { steps: quick ? 4 : 30, batch: 4, cutoff: 512, lr: 3e-4, warmup: quick ? 1 : 3 };
/** The memory/throughput pass (22M shape): a few steps, no evaluation. */
const RUN22M = { steps: quick ? 2 : 3, batch: 2, cutoff: 256, lr: 3e-4, warmup: 1 };
const SHAPE22M = { hidden_size: 512, intermediate_size: 1408, num_hidden_layers: 8, num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512 };

/** Writes the 22M-parameter Llama (random init, seed 1) with stories260K's tokenizer to dir. */
function write22M(dir: string): void {
  const registry = createRegistry();
  for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
  const family = familyByName(registry, "llama")._unsafeUnwrap();
  const config = {
    model_type: "llama",
    architectures: ["LlamaForCausalLM"],
    ...SHAPE22M,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: false,
    hidden_act: "silu",
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: "float32",
  };
  const model = family.build(family.fromConfig(config, dir)._unsafeUnwrap());
  model.initParameters({ seed: 1, std: 0.02 });
  saveModel(model, dir)._unsafeUnwrap();
  model.dispose();
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(MODEL, f), join(dir, f));
}

interface Row {
  name: string;
  /** The recipe's method block. */
  method: string;
  /** Extra lines of the train block (the optimizer and its options). */
  train?: string[];
  /** No train block: the starting model's held-out loss. */
  evalOnly?: boolean;
}

const LORA = "rank = 8, alpha = 16, targets = [q_proj, v_proj]";
const rows: Row[] = [
  { name: "start (no training)", method: "method full", evalOnly: true },
  { name: "full", method: "method full" },
  { name: "freeze (last 2 layers)", method: "method freeze { layers = 2 }" },
  { name: "lora r8 q/v", method: `method lora { ${LORA} }` },
  { name: "qlora nf4 r8 q/v", method: `method qlora { ${LORA}, quant_type = nf4, double_quant = true }` },
  { name: "qlora int8 r8 q/v", method: `method qlora { ${LORA}, quant_type = int8 }` },
  { name: "galore r16", method: "method full", train: ["optimizer = galore", "rank = 16", "update_interval = 10", "scale = 2"] },
  { name: "apollo r16", method: "method full", train: ["optimizer = apollo", "rank = 16", "update_interval = 10"] },
  { name: "badam (layer, switch 5)", method: "method full", train: ["optimizer = badam", "mode = layer", "switch_mode = ascending", "switch_interval = 5"] },
  { name: "adam-mini", method: "method full", train: ["optimizer = adam_mini"] },
  { name: "muon", method: "method full", train: ["optimizer = muon"] },
];

function recipeFor(row: Row, output: string, model: string, run: typeof RUN, evaluate: boolean): string {
  const train = row.evalOnly
    ? []
    : [
        `train pt for ${run.steps} steps {`,
        `  lr = ${run.lr}`,
        "  scheduler = cosine",
        `  warmup = ${run.warmup} steps`,
        `  batch = ${run.batch}`,
        `  cutoff = ${run.cutoff}`,
        "  pack = true",
        "  seed = 42",
        ...(row.train ?? []).map((l) => `  ${l}`),
        `  output = ${JSON.stringify(output)}`,
        "}",
      ];
  return [
    `model llama ${JSON.stringify(model)} { dtype = f32 }`,
    `dataset text ${JSON.stringify(TRAIN)}`,
    row.method,
    ...train,
    ...(evaluate ? [`eval text ${JSON.stringify(VALID)} { batch = 8 }`] : []),
    "",
  ].join("\n");
}

const num = (s: string | undefined): number => (s === undefined ? Number.NaN : Number(s.replaceAll(",", "")));

interface Measured {
  parameters: number;
  trainable: number;
  allocatorPeakBytes: number;
  peakRssBytes: number;
  allocatorBytesPerParameter: number;
  rssBytesPerParameter: number;
  tokensPerS: number | null;
  trainSeconds: number | null;
  firstLoss: number | null;
  lastLoss: number | null;
  heldOutLoss: number | null;
  perplexity: number | null;
  recipe: string;
}

/** Runs one row's recipe in a fresh process and reads what lft printed and the process's peaks. */
function runRow(row: Row, dir: string, model: string, run: typeof RUN, evaluate: boolean): Measured {
  mkdirSync(dir, { recursive: true });
  const recipe = recipeFor(row, join(dir, "run"), model, run, evaluate);
  const path = join(dir, "recipe.lft");
  writeFileSync(path, recipe);
  const child = Bun.spawnSync([process.execPath, join(import.meta.dir, "lib/methods-row.ts"), path, dir], { stdout: "pipe", stderr: "pipe" });
  const last = child.stdout.toString().trim().split("\n").pop() ?? "";
  if (child.exitCode !== 0 || !last.startsWith("{"))
    throw new Error(`${row.name}: the row's process failed (${child.exitCode}): ${child.stderr.toString().slice(-1000)}`);
  const r = JSON.parse(last) as { status: number; stdout: string; stderr: string; allocatorPeakBytes: number; peakRssBytes: number };
  if (r.status !== 0) throw new Error(`${row.name}: lft exited with ${r.status}:\n${r.stdout}\n${r.stderr}\n--- recipe ---\n${recipe}`);
  const out = r.stdout;
  const parameters = num(out.match(/: ([\d,]+) parameters \(/)?.[1]);
  const trainableMatch = out.match(/method \w+: ([\d,]+) of ([\d,]+) parameters trainable/);
  const summary = out.match(/train pt: \d+ steps? .* in (?:(\d+)m)?([\d.]+)s, ([\d,.]+) tokens\/s; loss ([\d.]+) → ([\d.]+)/);
  const ev = out.match(/eval .*: loss ([\d.]+), perplexity ([\d.]+)/);
  if (Number.isNaN(parameters) || (evaluate && !ev) || (!row.evalOnly && !summary)) throw new Error(`${row.name}: could not read the run's output:\n${out}`);
  return {
    parameters,
    trainable: trainableMatch ? num(trainableMatch[1]) : parameters,
    allocatorPeakBytes: r.allocatorPeakBytes,
    peakRssBytes: r.peakRssBytes,
    allocatorBytesPerParameter: Number((r.allocatorPeakBytes / parameters).toFixed(2)),
    rssBytesPerParameter: Number((r.peakRssBytes / parameters).toFixed(2)),
    tokensPerS: summary ? num(summary[3]) : null,
    trainSeconds: summary ? 60 * (summary[1] === undefined ? 0 : num(summary[1])) + num(summary[2]) : null,
    firstLoss: summary ? num(summary[4]) : null,
    lastLoss: summary ? num(summary[5]) : null,
    heldOutLoss: ev ? num(ev[1]) : null,
    perplexity: ev ? num(ev[2]) : null,
    recipe,
  };
}

const work = mkdtempSync(join(tmpdir(), "lft-methods-bench-"));
const results: { name: string; memory22M: Measured | null; perplexity260K: Measured }[] = [];
try {
  const model22M = join(work, "llama-22m");
  write22M(model22M);
  for (const row of rows) {
    const slug = row.name.replace(/[^a-z0-9]+/gi, "-");
    const memory22M = row.evalOnly ? null : runRow(row, join(work, `22m-${slug}`), model22M, RUN22M, false);
    const perplexity260K = runRow(row, join(work, `260k-${slug}`), MODEL, RUN, true);
    results.push({ name: row.name, memory22M, perplexity260K });
    console.error(
      `${row.name}: 22M ${memory22M ? `${(memory22M.allocatorPeakBytes / 2 ** 20).toFixed(0)} MiB allocator peak, ${memory22M.tokensPerS} tokens/s` : "-"}; stories260K perplexity ${perplexity260K.perplexity}`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(1);
const params22M = results.find((r) => r.memory22M)?.memory22M?.parameters ?? 0;
console.log(
  `memory and tokens/s: ${params22M.toLocaleString("en")}-parameter Llama (random init), ${RUN22M.steps} steps of batch ${RUN22M.batch} × ${RUN22M.cutoff} tokens; perplexity: stories260K after ${RUN.steps} steps of batch ${RUN.batch} × ${RUN.cutoff}, lr ${RUN.lr} cosine; wiki text; BLAS ${blasInfo().corename}; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
const dash = "-";
console.log(
  table(
    results.map(({ name, memory22M: m, perplexity260K: p }) => ({
      method: name,
      "trainable (22M)": m ? m.trainable.toLocaleString("en") : dash,
      "allocator peak MiB": m ? MiB(m.allocatorPeakBytes) : dash,
      "B/param": m ? m.allocatorBytesPerParameter.toFixed(2) : dash,
      "peak RSS MiB": m ? MiB(m.peakRssBytes) : dash,
      "RSS B/param": m ? m.rssBytesPerParameter.toFixed(2) : dash,
      "tokens/s": m?.tokensPerS ?? dash,
      "260K tokens/s": p.tokensPerS ?? dash,
      "held-out loss": p.heldOutLoss?.toFixed(4) ?? dash,
      perplexity: p.perplexity?.toFixed(2) ?? dash,
    })),
  ),
);
const path = writeResults(quick ? "methods-quick" : "methods", {
  memoryModel: { what: "Llama, random init (seed 1, std 0.02), stories260K's tokenizer", config: SHAPE22M, parameters: params22M, run: RUN22M },
  perplexityModel: { what: "examples/models/stories260K (trained TinyStories Llama, 260,032 parameters), f32", run: RUN },
  data: { train: "examples/data/wiki.train.txt (packed)", heldOut: "examples/data/wiki.valid.txt" },
  note: "each row of each pass is a recipe run by lft's command line in a fresh process; allocator peak = the CPU caching allocator's peak live bytes (size classes) over load and training; peak RSS = VmHWM of that process (includes the Bun runtime, ~45 MB); B/param divides by the model's parameters (adapters excluded)",
  blas: blasInfo(),
  loadAverage: loadavg(),
  rows: results,
});
console.log(`wrote ${path}`);
