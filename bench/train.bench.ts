// One training step of a ~22M-parameter Llama (dim 256, 8 layers, 8/4 GQA heads, ffn 688, vocab 32000,
// untied head, seq 512, batch 4) for each method — full, freeze (last 2 layers), LoRA (r 8 on q/v), and
// LoRA with gradient checkpointing — built from lft's real model code and method plugins, timed with
// tinybench (one iteration = forward, backward, clip, AdamW, its non-finite check, zero grads, as train() runs them), each
// case in its own process: peak bytes from the allocator, peak RSS with its breakdown (bench/lib/process-memory.ts),
// and the step's GFLOP/s beside a cblas_sgemm ceiling measured in the same process. PyTorch runs the same shape in the same bench run for full and LoRA
// (bench/peer_torch_step.py, Debian's python3-torch) with OpenBLAS forced to the kernels our
// binding uses, and the ratio is recorded. Run: bun bench/train.bench.ts [--quick] [--no-peer]
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Bench } from "tinybench";
import { Philox } from "../core/random/philox.ts";
import { type Batch, backward, blasInfo, causalLmLoss, cpuBackend, createRegistry, familyByName, methodEntry, tidy } from "../lft.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { AdamW } from "../plugins/optimizers/index.ts";
import { llamaBenchConfig } from "./lib/llama-shape.ts";
import { gemmCeilingGflops, type MemoryBreakdown, memoryBreakdown, procStatusBytes } from "./lib/process-memory.ts";
import { secondsPerRun, table, writeResults } from "./lib/results.ts";
import { randomTokenBatch } from "./lib/token-batch.ts";

const quick = process.argv.includes("--quick");
const noPeer = process.argv.includes("--no-peer");
const SHAPE = { dim: 256, layers: 8, heads: 8, kv: 4, ffn: 688, vocab: 32000, seq: quick ? 128 : 512, batch: 4 };
const ITER = quick ? 2 : 5;
const PEER = join(import.meta.dir, "peer_torch_step.py");

const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
const family = familyByName(registry, "llama")._unsafeUnwrap();
const config = llamaBenchConfig(SHAPE);

/** Random token rows (a fixed batch: the step's cost does not depend on the ids). */
function batchOf(seed: number): Batch {
  return randomTokenBatch(SHAPE, new Philox(BigInt(seed)));
}

interface Case {
  name: string;
  method: string;
  options: Record<string, unknown>;
  checkpointing: boolean;
  peer?: "full" | "lora";
}
const cases: Case[] = [
  { name: "full", method: "full", options: {}, checkpointing: false, peer: "full" },
  { name: "freeze (last 2 layers)", method: "freeze", options: { layers: 2 }, checkpointing: false },
  { name: "lora r8 q/v", method: "lora", options: { rank: 8, alpha: 16, targets: ["q_proj", "v_proj"] }, checkpointing: false, peer: "lora" },
  { name: "lora r8 q/v + checkpointing", method: "lora", options: { rank: 8, alpha: 16, targets: ["q_proj", "v_proj"] }, checkpointing: true },
];

interface Row {
  method: string;
  tokensPerS: number;
  stepS: number;
  peakMiB: number;
  trainable: number;
  params: number;
  peerTokensPerS?: number;
  peerPeakRssMiB?: number;
  ratio?: number;
  rssRatio?: number;
  memory: MemoryBreakdown;
  gemmCeilingGflops: number;
  gflops?: number;
  ofCeiling?: number;
}

function runPeer(mode: "full" | "lora"): { tokens_per_s: number; peak_rss_bytes: number } | string {
  if (noPeer) return "--no-peer";
  if (!existsSync("/usr/bin/python3") || !existsSync(PEER)) return `peer not found (${PEER})`;
  const probe = Bun.spawnSync(["/usr/bin/python3", "-c", "import torch"], { stdout: "pipe", stderr: "pipe" });
  if (probe.exitCode !== 0) return "PyTorch is not installed for /usr/bin/python3 (apt-get install python3-torch)";
  // The peer's OpenBLAS gets the kernels our binding runs with, so both sides use the same GEMMs.
  const env = { ...process.env, OPENBLAS_CORETYPE: blasInfo().corename, OMP_NUM_THREADS: "2" };
  const argv = [
    "--mode",
    mode,
    "--dim",
    SHAPE.dim,
    "--layers",
    SHAPE.layers,
    "--heads",
    SHAPE.heads,
    "--kv",
    SHAPE.kv,
    "--ffn",
    SHAPE.ffn,
    "--vocab",
    SHAPE.vocab,
    "--seq",
    SHAPE.seq,
    "--batch",
    SHAPE.batch,
    "--steps",
    ITER,
    "--threads",
    2,
  ].map(String);
  const r = Bun.spawnSync(["/usr/bin/python3", PEER, ...argv], { env, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) return `peer failed: ${r.stderr.toString().slice(-300)}`;
  return JSON.parse(r.stdout.toString().trim().split("\n").pop()!) as { tokens_per_s: number; peak_rss_bytes: number };
}

/** FLOPs of one step as the model defines them (no recompute): GEMMs 2·N·P forward, the same again for
 * input gradients, and for weight gradients only where weights train; causal attention 2·B·H·T²·hd
 * forward and twice that backward. null for methods whose trainable set this count does not model. */
function stepFlops(method: string): number | null {
  const { dim, layers, heads, kv, ffn, vocab, seq, batch } = SHAPE;
  const hd = dim / heads;
  const perLayer = dim * heads * hd + 2 * dim * kv * hd + heads * hd * dim + 3 * dim * ffn;
  const linear = layers * perLayer + vocab * dim;
  const N = batch * seq;
  const attention = 3 * 2 * batch * heads * seq * seq * hd * layers;
  if (method === "full") return 6 * N * linear + attention;
  if (method === "lora") return 4 * N * linear + attention;
  return null;
}

/** One case in this process (a child of the bench): the step's timing and where the process's bytes went. */
async function runCase(c: Case, runtimeBytes: number): Promise<Row> {
  const spec = family.fromConfig(config, "bench")._unsafeUnwrap();
  const model = family.build(spec);
  model.initParameters({ seed: 1, std: 0.02 });
  model.gradientCheckpointing = c.checkpointing;
  const applied = methodEntry(registry.get("methods", c.method)._unsafeUnwrap())._unsafeUnwrap().apply(model, c.options, family, { seed: 1 })._unsafeUnwrap();
  const params = Object.values(applied.params);
  const opt = new AdamW(params, { lr: 1e-4 });
  const batch = batchOf(1);
  const step = () =>
    tidy(() => {
      applied.beginForward();
      const { loss } = causalLmLoss(model, batch);
      backward(loss);
      let sq = 0;
      for (const p of params) if (p.grad) sq += cpuBackend.sumSquares(p.grad);
      if (!Number.isFinite(sq)) throw new Error("non-finite gradient in the bench step");
      opt.update();
      if (opt.nonFinite()) throw new Error("non-finite weights after the bench step");
      opt.zeroGrad();
    });
  step(); // optimizer state and caches exist before the timed steps
  const livePeakWarm = cpuBackend.allocator.stats().peakBytes;
  cpuBackend.allocator.resetPeak();
  const bench = new Bench({ iterations: ITER, time: 0, warmupIterations: 0, warmupTime: 0 });
  bench.add(c.name, step);
  await bench.run();
  const stepS = secondsPerRun(bench.tasks[0]!);
  const peakMiB = Math.round(cpuBackend.allocator.stats().peakBytes / 2 ** 20);
  const memory = memoryBreakdown(runtimeBytes);
  // The breakdown's live peak covers the whole process (the warm-up step included), as RSS does.
  memory.allocatorLivePeakMiB = Math.max(memory.allocatorLivePeakMiB, Math.round(livePeakWarm / 2 ** 20));
  const flops = stepFlops(c.method);
  const ceiling = gemmCeilingGflops();
  const row: Row = {
    method: c.name,
    tokensPerS: Math.round((SHAPE.batch * SHAPE.seq) / stepS),
    stepS: Number(stepS.toFixed(3)),
    peakMiB,
    trainable: applied.counts.trainable,
    params: applied.counts.total,
    memory,
    gemmCeilingGflops: Number(ceiling.toFixed(1)),
  };
  if (flops !== null) {
    row.gflops = Number((flops / stepS / 1e9).toFixed(1));
    row.ofCeiling = Number((row.gflops / ceiling).toFixed(3));
  }
  opt.dispose();
  model.dispose();
  return row;
}

const caseArg = process.argv.indexOf("--case");
if (caseArg >= 0) {
  // Child: one case, its row as the last line of stdout.
  const runtimeBytes = procStatusBytes("VmRSS");
  const row = await runCase(cases[Number(process.argv[caseArg + 1])]!, runtimeBytes);
  console.log(JSON.stringify(row));
  process.exit(0);
}

const rows: Row[] = [];
const notes: string[] = [];
for (const [i, c] of cases.entries()) {
  // Each case in its own process, so its peak RSS is its own (as the peer's is).
  const child = Bun.spawnSync([process.execPath, import.meta.path, "--case", String(i), ...(quick ? ["--quick"] : [])], { stdout: "pipe", stderr: "inherit" });
  if (child.exitCode !== 0) throw new Error(`${c.name}: the case's process failed (exit ${child.exitCode})`);
  const row = JSON.parse(child.stdout.toString().trim().split("\n").pop()!) as Row;
  if (c.peer) {
    const peer = runPeer(c.peer);
    if (typeof peer === "string") notes.push(`${c.name}: no peer (${peer})`);
    else
      Object.assign(row, {
        peerTokensPerS: peer.tokens_per_s,
        peerPeakRssMiB: Math.round(peer.peak_rss_bytes / 2 ** 20),
        ratio: Number((row.tokensPerS / peer.tokens_per_s).toFixed(2)),
        rssRatio: Number((row.memory.rssPeakMiB / (peer.peak_rss_bytes / 2 ** 20)).toFixed(2)),
      });
  }
  rows.push(row);
  console.error(
    `${c.name}: ${row.tokensPerS} tok/s, RSS ${row.memory.rssPeakMiB} MiB${row.ratio ? ` (PyTorch ${row.peerTokensPerS} tok/s, ${row.peerPeakRssMiB} MiB: ${row.ratio}x speed, ${row.rssRatio}x RSS)` : ""}`,
  );
}

console.log(
  `shape ${JSON.stringify(SHAPE)}; BLAS ${blasInfo().corename} (${blasInfo().reason}); load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(
  table(
    rows.map((r) => ({
      method: r.method,
      "tokens/s": r.tokensPerS,
      "step s": r.stepS,
      "GFLOP/s": r.gflops ?? "-",
      "of GEMM": r.ofCeiling ?? "-",
      "RSS MiB": r.memory.rssPeakMiB,
      "alloc live/reserved MiB": `${r.memory.allocatorLivePeakMiB}/${r.memory.allocatorReservedPeakMiB}`,
      "runtime/JS/other MiB": `${r.memory.runtimeMiB}/${r.memory.jsHeapMiB}/${r.memory.otherMiB}`,
      "PyTorch tokens/s": r.peerTokensPerS ?? "-",
      "PyTorch RSS MiB": r.peerPeakRssMiB ?? "-",
      ratio: r.ratio ?? "-",
      "RSS ratio": r.rssRatio ?? "-",
    })),
  ),
);
for (const n of notes) console.log(n);
const path = writeResults(quick ? "train-step-quick" : "train-step", {
  shape: SHAPE,
  iterations: ITER,
  blas: blasInfo(),
  loadAverage: loadavg(),
  rows,
  notes,
  peer: "PyTorch via bench/peer_torch_step.py, OPENBLAS_CORETYPE set to lft's kernels, 2 threads",
  fields:
    "gflops: the step's model FLOPs (GEMMs and causal attention, no recompute) per second; gemmCeilingGflops: a 1024³ cblas_sgemm through the backend, best of 5, measured in the case's process after its steps; memory: peak RSS split into runtime (RSS before the model), allocator reserve at its peak (live + cached), JS heap and the rest",
});
console.log(`wrote ${path}`);
