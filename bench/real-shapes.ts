// A LoRA training step at a real model's shape: Qwen3-0.6B's config (hidden 1024, 28 layers, 16/8 heads,
// head_dim 128, ffn 3072, vocab 151936, q/k RMSNorm, tied embeddings) with random weights, the frozen base
// stored in bf16 (lft's half-weight path: cast to f32 per use), LoRA r 16 on every linear layer, seq 512,
// batch 1, gradient checkpointing off and on. Each lft case runs in its own process (its own peak RSS);
// the PyTorch peer (bench/peer_torch_step.py --shape qwen3-0.6b) runs the same shape with the same
// OpenBLAS kernels and thread count. Writes bench/results/real-shapes.json.
// Run: bun bench/real-shapes.ts [--steps N] [--layers L] [--seq T] [--no-peer]   (layers/seq: a smaller try-out)
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Philox } from "../core/random/philox.ts";
import { backward, blasInfo, causalLmLoss, cpuBackend, createRegistry, familyByName, methodEntry, randn, Tensor, tidy } from "../lft.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { AdamW } from "../plugins/optimizers/index.ts";
import { gemmCeilingGflops, type MemoryBreakdown, memoryBreakdown, procStatusBytes } from "./lib/process-memory.ts";
import { table, writeResults } from "./lib/results.ts";
import { randomTokenBatch } from "./lib/token-batch.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const STEPS = arg("--steps", 2);
const noPeer = process.argv.includes("--no-peer");
const SHAPE = {
  name: "qwen3-0.6b",
  dim: 1024,
  layers: arg("--layers", 28),
  heads: 16,
  kv: 8,
  headDim: 128,
  ffn: 3072,
  vocab: 151936,
  seq: arg("--seq", 512),
  batch: 1,
};
const LORA = { rank: 16, alpha: 32, targets: ["all"] };
const PEER = join(import.meta.dir, "peer_torch_step.py");

const config = {
  model_type: "qwen3",
  architectures: ["Qwen3ForCausalLM"],
  hidden_size: SHAPE.dim,
  intermediate_size: SHAPE.ffn,
  num_hidden_layers: SHAPE.layers,
  num_attention_heads: SHAPE.heads,
  num_key_value_heads: SHAPE.kv,
  head_dim: SHAPE.headDim,
  vocab_size: SHAPE.vocab,
  max_position_embeddings: 40960,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  hidden_act: "silu",
  attention_bias: false,
};

interface Side {
  tokensPerS: number;
  stepS: number;
  peakRssMiB: number;
}
interface Row {
  checkpointing: boolean;
  lft: Side & {
    memory: MemoryBreakdown;
    trainable: number;
    params: number;
    baseDtypes: Record<string, number>;
    gflops: number;
    gemmCeilingGflops: number;
    /** tokens/s if every FLOP of the step ran at the 1024³ sgemm rate: no implementation on these kernels beats it */
    ceilingTokensPerS: number;
  };
  peer?: Side & { trainable: number; params: number };
  speedRatio?: number;
  rssRatio?: number;
  /** 3 x the peer's tokens/s as a share of ceilingTokensPerS: above 1, a 3x speed-up is out of reach on these kernels */
  threeTimesPeerOfCeiling?: number;
}

/** FLOPs one step executes: GEMMs 2·N·P forward and 2·N·P for input gradients (the base is frozen; LoRA's
 * rank-16 products are left out, under 2%), causal attention 2·H·T²·hd forward and twice that backward;
 * with checkpointing, every layer's forward once more. */
function stepFlops(checkpointing: boolean): number {
  const { dim, layers, heads, kv, headDim, ffn, vocab, seq, batch } = SHAPE;
  const layerParams = dim * heads * headDim + 2 * dim * kv * headDim + heads * headDim * dim + 3 * dim * ffn;
  const N = batch * seq;
  const attentionForward = 2 * batch * heads * seq * seq * headDim * layers;
  const model = 4 * N * (layers * layerParams + vocab * dim) + 3 * attentionForward;
  return checkpointing ? model + 2 * N * layers * layerParams + attentionForward : model;
}

/** One lft case in this process: build with a bf16 base, LoRA, time STEPS steps after a warm-up one. */
function runLft(checkpointing: boolean): Row["lft"] {
  const runtimeBytes = procStatusBytes("VmRSS");
  const registry = createRegistry();
  for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
  const family = familyByName(registry, "qwen3")._unsafeUnwrap();
  const model = family.build(family.fromConfig(config, "bench")._unsafeUnwrap());
  // Random weights one tensor at a time, matrices drawn in blocks of rows straight into bf16: no f32
  // copy of a whole matrix (the 151936-row embedding would be 594 MiB) ever exists.
  let seed = 1;
  for (const [path, slot] of model.namedSlots()) {
    if (slot.shape.length < 2) {
      const f = Tensor.alloc(cpuBackend, slot.shape, "f32", false);
      cpuBackend.fill(f, slot.init === "ones" ? 1 : 0);
      model.setParameter(path, f)._unsafeUnwrap();
      continue;
    }
    const [rows, cols] = slot.shape as [number, number];
    const half = Tensor.alloc(cpuBackend, slot.shape, "bf16", false);
    const block = 4096;
    for (let r = 0; r < rows; r += block) {
      const n = Math.min(block, rows - r);
      const f = randn([n, cols], { seed: BigInt(seed), offset: BigInt(r * cols), std: 0.02 });
      const dst = half.view([n, cols], r * cols * 2, false);
      cpuBackend.cast(dst, f);
      dst.dispose();
      f.dispose();
    }
    seed++;
    model.setParameter(path, half)._unsafeUnwrap();
  }
  cpuBackend.allocator.emptyCache();
  model.gradientCheckpointing = checkpointing;
  const applied = methodEntry(registry.get("methods", "lora")._unsafeUnwrap())._unsafeUnwrap().apply(model, LORA, family, { seed: 1 })._unsafeUnwrap();
  const baseDtypes: Record<string, number> = {};
  for (const [, t] of model.namedParameters()) baseDtypes[t.dtype] = (baseDtypes[t.dtype] ?? 0) + t.numel;
  const params = Object.values(applied.params);
  const opt = new AdamW(params, { lr: 1e-4 });
  const batch = randomTokenBatch(SHAPE, new Philox(1n));
  const step = () =>
    tidy(() => {
      applied.beginForward();
      const { loss } = causalLmLoss(model, batch);
      backward(loss);
      opt.update();
      if (opt.nonFinite()) throw new Error("non-finite weights after the bench step");
      opt.zeroGrad();
    });
  const times: number[] = [];
  for (let i = 0; i <= STEPS; i++) {
    const t = performance.now();
    step();
    if (i > 0) times.push((performance.now() - t) / 1000);
    console.error(`  lft step ${i}${i === 0 ? " (warm-up)" : ""}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  times.sort((a, b) => a - b);
  const stepS = times[Math.floor(times.length / 2)]!;
  const memory = memoryBreakdown(runtimeBytes);
  const flops = stepFlops(checkpointing);
  const ceiling = gemmCeilingGflops();
  return {
    tokensPerS: Number(((SHAPE.batch * SHAPE.seq) / stepS).toFixed(1)),
    stepS: Number(stepS.toFixed(2)),
    peakRssMiB: memory.rssPeakMiB,
    memory,
    trainable: applied.counts.trainable,
    params: applied.counts.total,
    baseDtypes,
    gflops: Number((flops / stepS / 1e9).toFixed(1)),
    gemmCeilingGflops: Number(ceiling.toFixed(1)),
    ceilingTokensPerS: Number(((SHAPE.batch * SHAPE.seq * ceiling * 1e9) / flops).toFixed(1)),
  };
}

function runPeer(checkpointing: boolean): NonNullable<Row["peer"]> | string {
  if (noPeer) return "--no-peer";
  if (!existsSync("/usr/bin/python3") || !existsSync(PEER)) return `peer not found (${PEER})`;
  const env = { ...process.env, OPENBLAS_CORETYPE: blasInfo().corename, OMP_NUM_THREADS: String(blasInfo().threads) };
  const argv = ["--shape", "qwen3-0.6b", "--layers", SHAPE.layers, "--seq", SHAPE.seq, "--steps", STEPS, "--threads", blasInfo().threads].map(String);
  const r = Bun.spawnSync(["/usr/bin/python3", PEER, ...argv, ...(checkpointing ? ["--checkpointing"] : [])], { env, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) return `peer failed: ${r.stderr.toString().slice(-300)}`;
  const o = JSON.parse(r.stdout.toString().trim().split("\n").pop()!) as {
    tokens_per_s: number;
    step_s: number;
    peak_rss_bytes: number;
    trainable: number;
    params: number;
  };
  return { tokensPerS: o.tokens_per_s, stepS: o.step_s, peakRssMiB: Math.round(o.peak_rss_bytes / 2 ** 20), trainable: o.trainable, params: o.params };
}

const caseArg = process.argv.indexOf("--case");
if (caseArg >= 0) {
  console.log(JSON.stringify(runLft(process.argv[caseArg + 1] === "checkpointing")));
  process.exit(0);
}

const rows: Row[] = [];
const notes: string[] = [];
for (const checkpointing of [false, true]) {
  console.error(`checkpointing ${checkpointing ? "on" : "off"}`);
  const child = Bun.spawnSync([process.execPath, import.meta.path, ...process.argv.slice(2), "--case", checkpointing ? "checkpointing" : "plain"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  if (child.exitCode !== 0) throw new Error(`lft case failed (exit ${child.exitCode})`);
  const row: Row = { checkpointing, lft: JSON.parse(child.stdout.toString().trim().split("\n").pop()!) };
  const peer = runPeer(checkpointing);
  if (typeof peer === "string") notes.push(`checkpointing ${checkpointing}: no peer (${peer})`);
  else {
    row.peer = peer;
    row.speedRatio = Number((row.lft.tokensPerS / peer.tokensPerS).toFixed(2));
    row.rssRatio = Number((row.lft.peakRssMiB / peer.peakRssMiB).toFixed(2));
    row.threeTimesPeerOfCeiling = Number(((3 * peer.tokensPerS) / row.lft.ceilingTokensPerS).toFixed(2));
  }
  rows.push(row);
  console.error(
    `  lft ${row.lft.tokensPerS} tok/s ${row.lft.peakRssMiB} MiB; peer ${row.peer ? `${row.peer.tokensPerS} tok/s ${row.peer.peakRssMiB} MiB` : "-"}`,
  );
}

console.log(
  `shape ${JSON.stringify(SHAPE)}; BLAS ${blasInfo().corename} x${blasInfo().threads}; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(
  table(
    rows.map((r) => ({
      checkpointing: r.checkpointing ? "on" : "off",
      "lft tokens/s": r.lft.tokensPerS,
      "lft GFLOP/s (ceiling)": `${r.lft.gflops} (${r.lft.gemmCeilingGflops})`,
      "ceiling tokens/s": r.lft.ceilingTokensPerS,
      "lft RSS MiB": r.lft.peakRssMiB,
      "alloc live/reserved MiB": `${r.lft.memory.allocatorLivePeakMiB}/${r.lft.memory.allocatorReservedPeakMiB}`,
      "PyTorch tokens/s": r.peer?.tokensPerS ?? "-",
      "PyTorch RSS MiB": r.peer?.peakRssMiB ?? "-",
      speed: r.speedRatio ?? "-",
      RSS: r.rssRatio ?? "-",
      "3x peer / ceiling": r.threeTimesPeerOfCeiling ?? "-",
    })),
  ),
);
for (const n of notes) console.log(n);
const full = SHAPE.layers === 28 && SHAPE.seq === 512;
const path = writeResults(full ? "real-shapes" : "real-shapes-small", {
  shape: SHAPE,
  lora: LORA,
  steps: STEPS,
  blas: blasInfo(),
  loadAverage: loadavg(),
  rows,
  notes,
  peer: "PyTorch via bench/peer_torch_step.py --shape qwen3-0.6b: bf16 frozen base cast to f32 per use, LoRA r16 on q/k/v/o/gate/up/down, same OpenBLAS kernels and threads",
  fields:
    "gflops: the FLOPs the step executes (GEMMs, causal attention, the recomputed forward with checkpointing) per second; gemmCeilingGflops: a 1024³ cblas_sgemm through the backend, best of 5, in the case's process; ceilingTokensPerS: tokens/s with every FLOP at that rate; threeTimesPeerOfCeiling: 3 x PyTorch's tokens/s over that bound",
});
console.log(`wrote ${path}`);
