// GPU benchmark (needs an NVIDIA GPU; prints why it did not run otherwise), every number against a ceiling
// or a peer measured in the same run:
//  - GEMM TFLOP/s through lft (validation + cuBLAS) against cuBLAS called directly on the same buffers,
//    for a Llama-3-8B layer's shapes at 2048 tokens, bf16 (f32 accumulation) and f32;
//  - causal GQA attention forward and backward TFLOP/s (our flash-style kernels, v1);
//  - RMSNorm and cross-entropy GB/s against a device-to-device copy;
//  - one LoRA step (r=16 on all 7 projections) of a Llama-3-8B-shaped random model at sequence 2048 in lft,
//    and the same step in PyTorch + PEFT (bench/gpu_peft_step.py, when python3 has torch/transformers/peft),
//    tokens/s and peak GiB, with the ratio.
// Results: bench/results/gpu.json. GPU time is taken with CUDA events around the queued work.
// Run (GPU machine): node_modules/.bin/bun bench/gpu.bench.ts [--quick] [--no-peft] [--layers N] [--seq T]
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cudaBackend, probeCuda } from "../ffi/cuda/index.ts";
import { backward, defineOp, ops, setDefaultBackend, Tensor, tidy } from "../lft.ts";
import { table, writeResults } from "./lib/results.ts";

const { values: args } = parseArgs({
  options: { quick: { type: "boolean" }, "no-peft": { type: "boolean" }, layers: { type: "string" }, seq: { type: "string" }, steps: { type: "string" } },
});
const quick = args.quick ?? false;

const available = probeCuda();
if (available !== true) {
  console.log(`bench/gpu.bench.ts: not run: ${available}`);
  process.exit(0);
}
const gpu = cudaBackend();
setDefaultBackend(gpu);
const { driver, cublas } = gpu.native;
console.log(
  `${gpu.device.name} (sm_${gpu.device.computeCapability.join("")}, ${gpu.device.multiprocessors} SMs, ${(gpu.device.totalBytes / 2 ** 30).toFixed(0)} GiB); driver ${gpu.libraries.driver}; cuBLAS ${gpu.libraries.cublas}`,
);

type Kind = "f32" | "bf16";
const buffers: Tensor[] = [];

/** A device tensor of N(0, std) values in the given storage type. */
function randomTensor(shape: number[], kind: Kind | "f32", seed: number, std = 1): Tensor {
  const f = Tensor.alloc(gpu, shape, "f32", false);
  gpu.randNormal(f, BigInt(seed), 0n, 0, std);
  if (kind === "f32") return f;
  const h = Tensor.alloc(gpu, shape, kind, false);
  gpu.cast(h, f);
  f.dispose();
  return h;
}

function buffer(shape: number[], kind: Kind, seed = 1, std = 1): Tensor {
  const t = randomTensor(shape, kind, seed, std);
  buffers.push(t);
  return t;
}

function empty(shape: number[], dtype: Kind | "i32"): Tensor {
  const t = Tensor.alloc(gpu, shape, dtype, false);
  buffers.push(t);
  return t;
}

/** Mean GPU milliseconds per call, after warmup, over enough calls for ~`targetMs`. */
function gpuMs(fn: () => void, targetMs = quick ? 100 : 400): number {
  fn();
  gpu.synchronize();
  const once = Math.max(gpu.time(fn), 1e-3);
  const iters = Math.max(3, Math.min(200, Math.round(targetMs / once)));
  return (
    gpu.time(() => {
      for (let i = 0; i < iters; i++) fn();
    }) / iters
  );
}

function section<T>(name: string, run: () => T): T | { error: string } {
  try {
    return run();
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    console.log(`${name}: FAILED: ${error}`);
    return { error };
  }
}

const fmt = (x: number, d = 1) => x.toFixed(d);

// ------------------------------------------------------------------------------------------- D2D copy
const copy = section("copy", () => {
  const bytes = quick ? 256 << 20 : 1 << 30;
  const a = empty([bytes / 4], "f32");
  const b = empty([bytes / 4], "f32");
  gpu.fill(a, 1);
  const ms = gpuMs(() => driver.copyDtoD(b.ptr, a.ptr, bytes, gpu.native.stream));
  const GBps = (2 * bytes) / (ms / 1e3) / 1e9;
  console.log(`\ndevice-to-device copy: ${fmt(GBps, 0)} GB/s (read + write of ${bytes >> 20} MiB)`);
  return { bytes, GBps };
});
const copyGBps = "GBps" in copy ? copy.GBps : Number.NaN;

// ------------------------------------------------------------------------------------------------ GEMM
interface Gemm {
  label: string;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
}
const T = quick ? 512 : 2048;
const gemms: Gemm[] = [
  { label: "4096³", m: 4096, n: 4096, k: 4096 },
  { label: "q/o proj", m: T, n: 4096, k: 4096, transB: true },
  { label: "gate/up proj", m: T, n: 14336, k: 4096, transB: true },
  { label: "down proj", m: T, n: 4096, k: 14336, transB: true },
  { label: "lm_head", m: T, n: 128256, k: 4096, transB: true },
  { label: "gate weight grad (xᵀ dY)", m: 4096, n: 14336, k: T, transA: true },
];
const gemmRows = section("gemm", () => {
  const rows: Record<string, string | number>[] = [];
  for (const kind of ["bf16", "f32"] as const) {
    for (const g of gemms) {
      const a = buffer(g.transA ? [g.k, g.m] : [g.m, g.k], kind, 2);
      const b = buffer(g.transB ? [g.n, g.k] : [g.k, g.n], kind, 3);
      const c = empty([g.m, g.n], kind);
      const flops = 2 * g.m * g.n * g.k;
      const lft = gpuMs(() => gpu.matmul(c, a, b, { transA: g.transA, transB: g.transB }));
      const direct = gpuMs(() =>
        cublas.gemm(
          { m: g.m, n: g.n, k: g.k, transA: !!g.transA, transB: !!g.transB, batch: 1, strideA: 0, strideB: 0, strideC: 0 },
          a.ptr,
          b.ptr,
          c.ptr,
          kind,
          kind,
          1,
          0,
        ),
      );
      rows.push({
        shape: `${g.label} ${g.m}x${g.n}x${g.k}`,
        dtype: kind,
        lftTflops: +fmt(flops / lft / 1e9),
        cublasTflops: +fmt(flops / direct / 1e9),
        ratio: +fmt(direct / lft, 3),
      });
      for (const t of [a, b, c]) t.dispose();
      buffers.length = 0;
    }
  }
  console.log(`\nGEMM (f32 accumulation; f32 = CUBLAS_COMPUTE_32F, no TF32)\n${table(rows)}`);
  return rows;
});

// ------------------------------------------------------------------------------------------- attention
const attention = section("attention", () => {
  const rows: Record<string, string | number>[] = [];
  for (const kind of ["bf16", "f32"] as const) {
    for (const Tk of quick ? [1024] : [2048, 4096]) {
      const [B, Hq, Hkv, D] = [1, 32, 8, 128];
      const q = buffer([B, Tk, Hq, D], kind, 4);
      const k = buffer([B, Tk, Hkv, D], kind, 5);
      const v = buffer([B, Tk, Hkv, D], kind, 6);
      const [out, dout, dq] = [empty([B, Tk, Hq, D], kind), buffer([B, Tk, Hq, D], kind, 7), empty([B, Tk, Hq, D], kind)];
      const [dk, dv] = [empty([B, Tk, Hkv, D], kind), empty([B, Tk, Hkv, D], kind)];
      const lse = empty([B, Hq, Tk], "f32");
      const opts = { scale: 1 / Math.sqrt(D), window: 0, softcap: 0 };
      // causal: half of the T x T score matrix; forward = 2 matmuls (QKᵀ, PV), backward = 2.5x forward
      const fwdFlops = (4 * B * Hq * Tk * Tk * D) / 2;
      const fwd = gpuMs(() => gpu.attentionForward(out, lse, q, k, v, null, opts));
      const bwd = gpuMs(() => gpu.attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, null, opts));
      rows.push({
        dtype: kind,
        shape: `B=${B} T=${Tk} Hq=${Hq} Hkv=${Hkv} D=${D}`,
        fwdMs: +fmt(fwd, 2),
        fwdTflops: +fmt(fwdFlops / fwd / 1e9, 2),
        bwdMs: +fmt(bwd, 2),
        bwdTflops: +fmt((2.5 * fwdFlops) / bwd / 1e9, 2),
      });
      for (const t of buffers) t.dispose();
      buffers.length = 0;
    }
  }
  console.log(`\ncausal GQA attention (kernels v1: SIMT, f32 arithmetic)\n${table(rows)}`);
  return rows;
});

// ---------------------------------------------------------------------------------- memory-bound kernels
const memoryBound = section("memory-bound", () => {
  const rows: Record<string, string | number>[] = [];
  for (const kind of ["bf16", "f32"] as const) {
    const el = kind === "f32" ? 4 : 2;
    const [R, C] = [quick ? 4096 : 16384, 4096];
    const x = buffer([R, C], kind, 8);
    const w = buffer([C], kind, 9);
    const [y, dx, dw] = [empty([R, C], kind), empty([R, C], kind), empty([C], kind)];
    const rstd = empty([R], "f32");
    const n = R * C;
    const add = (name: string, bytes: number, ms: number) =>
      rows.push({
        kernel: name,
        dtype: kind,
        MiB: Math.round(bytes / 2 ** 20),
        GBps: +fmt(bytes / (ms / 1e3) / 1e9, 0),
        ofCopy: +fmt(bytes / (ms / 1e3) / 1e9 / copyGBps, 2),
      });
    add(
      `rmsNorm fwd [${R}, ${C}]`,
      2 * n * el,
      gpuMs(() => gpu.rmsNormForward(y, rstd, x, w, 1e-5, 0)),
    );
    add(
      `rmsNorm bwd dx+dw [${R}, ${C}]`,
      3 * n * el,
      gpuMs(() => gpu.rmsNormBackward(dx, dw, y, x, w, rstd, 0)),
    );
    add(
      `rmsNorm bwd dx only`,
      3 * n * el,
      gpuMs(() => gpu.rmsNormBackward(dx, null, y, x, w, rstd, 0)),
    );
    for (const t of buffers) t.dispose();
    buffers.length = 0;

    const [rows_, V] = [quick ? 512 : 2048, 128256];
    const logits = buffer([rows_, V], kind, 10, 2);
    const targets = empty([rows_], "i32");
    gpu.upload(
      targets,
      Int32Array.from({ length: rows_ }, (_, i) => (i * 7919) % V),
    );
    const [loss, lse, grow] = [empty([rows_], "f32"), empty([rows_], "f32"), empty([rows_], "f32")];
    gpu.fill(grow, 1 / rows_);
    const dl = empty([rows_, V], kind);
    // the forward and backward each read the targets back to range-check them (a host sync): included
    add(
      `crossEntropy fwd [${rows_}, ${V}]`,
      rows_ * V * el,
      gpuMs(() => gpu.crossEntropyForward(loss, lse, logits, targets, -100)),
    );
    add(
      `crossEntropy bwd [${rows_}, ${V}]`,
      2 * rows_ * V * el,
      gpuMs(() => gpu.crossEntropyBackward(dl, grow, logits, lse, targets, -100)),
    );
    for (const t of buffers) t.dispose();
    buffers.length = 0;
  }
  console.log(`\nmemory-bound kernels (bytes = least each must move; ofCopy = fraction of the D2D copy's ${fmt(copyGBps, 0)} GB/s)\n${table(rows)}`);
  return rows;
});
gpu.allocator.emptyCache();

// -------------------------------------------------------------------------------------- LoRA step: PEFT
const SHAPE = {
  dim: 4096,
  layers: Number(args.layers ?? (quick ? 2 : 32)),
  heads: 32,
  kv: 8,
  ffn: 14336,
  vocab: 128256,
  seq: Number(args.seq ?? (quick ? 512 : 2048)),
  batch: 1,
  rank: 16,
  alpha: 32,
};
const STEPS = Number(args.steps ?? (quick ? 2 : 3));
const PEFT_SCRIPT = join(import.meta.dir, "gpu_peft_step.py");

function runPeft(): Record<string, unknown> {
  if (args["no-peft"]) return { skipped: "--no-peft" };
  const which = Bun.spawnSync(["sh", "-c", "command -v python3"]);
  if (which.exitCode !== 0) return { skipped: "python3 not found" };
  const dir = mkdtempSync(join(tmpdir(), "lft-peft-"));
  const out = join(dir, "peft.json");
  try {
    const r = Bun.spawnSync(
      [
        "python3",
        PEFT_SCRIPT,
        "--layers",
        String(SHAPE.layers),
        "--seq",
        String(SHAPE.seq),
        "--batch",
        String(SHAPE.batch),
        "--rank",
        String(SHAPE.rank),
        "--alpha",
        String(SHAPE.alpha),
        "--steps",
        String(STEPS),
        "--json",
        out,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const log = (r.stdout.toString() + r.stderr.toString()).trim().split("\n").slice(-6).join("\n");
    if (r.exitCode !== 0 || !existsSync(out)) return { error: `gpu_peft_step.py exited ${r.exitCode}: ${log}` };
    return JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
// PEFT runs first, while lft holds no model memory, so the two never compete for the GPU.
const peft = section("peft", runPeft);
console.log(`\nPEFT LoRA step: ${JSON.stringify(peft)}`);

// --------------------------------------------------------------------------------------- LoRA step: lft
/**
 * A frozen bf16 Linear: y = x Wᵀ with x cast to bf16 and the GEMM in bf16 with f32 accumulation and an f32
 * result (as PEFT's bf16 base layers compute). Saves nothing: W is frozen and persistent, and dx = g W
 * casts g the same way.
 */
const frozenLinear = defineOp<[Tensor, Tensor], { w: Tensor }>({
  name: "frozenLinear",
  forward(ctx, x, w) {
    const xb = Tensor.alloc(x.backend, x.shape, "bf16", false);
    x.backend.cast(xb, x);
    const y = Tensor.alloc(x.backend, [...x.shape.slice(0, -1), w.shape[0]!], "f32");
    x.backend.matmul(y, xb, w, { transB: true });
    xb.dispose();
    ctx.state = { w };
    return y;
  },
  backward(ctx, g) {
    const { w } = ctx.state;
    const gb = Tensor.alloc(g.backend, g.shape, "bf16", false);
    g.backend.cast(gb, g);
    const dx = Tensor.alloc(g.backend, [...g.shape.slice(0, -1), w.shape[1]!], "f32");
    g.backend.matmul(dx, gb, w);
    gb.dispose();
    return [dx, null];
  },
});

function loraStep(): Record<string, unknown> {
  const s = SHAPE;
  const hd = s.dim / s.heads;
  let seed = 1000;
  const frozen: Tensor[] = [];
  const trainable: Tensor[] = [];
  const bf16W = (out: number, inp: number) => {
    const t = randomTensor([out, inp], "bf16", seed++, 0.02);
    frozen.push(t);
    return t;
  };
  const lora = (out: number, inp: number) => {
    const a = randomTensor([s.rank, inp], "f32", seed++, 1 / Math.sqrt(inp));
    const b = randomTensor([out, s.rank], "f32", seed++, 0.01); // non-zero so every LoRA GEMM does real work
    a.requiresGrad = b.requiresGrad = true;
    trainable.push(a, b);
    return { a, b };
  };
  const proj = (out: number, inp: number) => ({ w: bf16W(out, inp), ...lora(out, inp) });
  const ones = () => {
    const t = Tensor.alloc(gpu, [s.dim], "f32", false);
    gpu.fill(t, 1);
    frozen.push(t);
    return t;
  };
  const embed = randomTensor([s.vocab, s.dim], "f32", seed++, 0.02);
  frozen.push(embed);
  const layers = Array.from({ length: s.layers }, () => ({
    ln1: ones(),
    q: proj(s.heads * hd, s.dim),
    k: proj(s.kv * hd, s.dim),
    v: proj(s.kv * hd, s.dim),
    o: proj(s.dim, s.heads * hd),
    ln2: ones(),
    gate: proj(s.ffn, s.dim),
    up: proj(s.ffn, s.dim),
    down: proj(s.dim, s.ffn),
  }));
  const norm = ones();
  const head = bf16W(s.vocab, s.dim);
  const nFrozen = frozen.reduce((n, t) => n + t.numel, 0);
  const nTrain = trainable.reduce((n, t) => n + t.numel, 0);
  const [B, T] = [s.batch, s.seq];
  const pos = Tensor.alloc(gpu, [B, T], "i32", false);
  gpu.upload(
    pos,
    Int32Array.from({ length: B * T }, (_, i) => i % T),
  );
  const inv = Tensor.alloc(gpu, [hd / 2], "f32", false);
  gpu.upload(inv, ops.ropeInvFreq(hd, 500000));
  const ids = Tensor.alloc(gpu, [B, T], "i32", false);
  gpu.upload(
    ids,
    Int32Array.from({ length: B * T }, (_, i) => (i * 7919 + 13) % s.vocab),
  );
  const targets = Tensor.alloc(gpu, [B * T], "i32", false);
  gpu.upload(
    targets,
    Int32Array.from({ length: B * T }, (_, i) => ((i + 1) * 7919 + 13) % s.vocab),
  );
  const scaling = s.alpha / s.rank;
  const linear = (x: Tensor, p: { w: Tensor; a: Tensor; b: Tensor }) =>
    ops.add(frozenLinear(x, p.w), ops.scale(ops.matmul(ops.matmul(x, p.a, { transB: true }), p.b, { transB: true }), scaling));
  const moments = trainable.map((p) => {
    const m = Tensor.alloc(gpu, p.shape, "f32", false);
    const v = Tensor.alloc(gpu, p.shape, "f32", false);
    gpu.fill(m, 0);
    gpu.fill(v, 0);
    return { m, v };
  });

  const step = (n: number) =>
    tidy(() => {
      let x = ops.embedding(embed, ids);
      for (const L of layers) {
        const h = ops.rmsNorm(x, L.ln1, { eps: 1e-5 });
        const q = ops.rope(ops.reshape(linear(h, L.q), [B, T, s.heads, hd]), pos, inv);
        const k = ops.rope(ops.reshape(linear(h, L.k), [B, T, s.kv, hd]), pos, inv);
        const v = ops.reshape(linear(h, L.v), [B, T, s.kv, hd]);
        x = ops.add(x, linear(ops.reshape(ops.causalAttention(q, k, v), [B, T, s.dim]), L.o));
        const h2 = ops.rmsNorm(x, L.ln2, { eps: 1e-5 });
        x = ops.add(x, linear(ops.swiglu(linear(h2, L.gate), linear(h2, L.up)), L.down));
      }
      const logits = frozenLinear(ops.rmsNorm(x, norm, { eps: 1e-5 }), head);
      const loss = ops.crossEntropy(ops.reshape(logits, [B * T, s.vocab]), targets);
      backward(loss);
      gpu.adamwStepMulti(
        trainable.map((p, i) => ({ p, g: p.grad!, m: moments[i]!.m, v: moments[i]!.v })),
        { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: n },
      );
      for (const p of trainable) {
        p.grad?.dispose();
        p.grad = null;
      }
      return loss.item();
    });

  try {
    const t0 = performance.now();
    step(1); // warmup: fills the allocator's cache, resolves kernels
    gpu.synchronize();
    const warmupS = (performance.now() - t0) / 1e3;
    gpu.allocator.resetPeak();
    const times: number[] = [];
    let lastLoss = 0;
    for (let i = 0; i < STEPS; i++) {
      const t = performance.now();
      lastLoss = step(i + 2);
      gpu.synchronize();
      times.push((performance.now() - t) / 1e3);
    }
    times.sort((a, b) => a - b);
    const stepS = times[Math.floor(times.length / 2)]!;
    const peak = gpu.allocator.stats().peakBytes;
    return {
      layers: s.layers,
      seq: T,
      batch: B,
      rank: s.rank,
      frozenParams: nFrozen,
      trainableParams: nTrain,
      warmupS,
      stepS,
      tokensPerS: (B * T) / stepS,
      peakGiB: peak / 2 ** 30,
      loss: lastLoss,
      notes: "attention kernels v1 (SIMT); activations, norms and LoRA in f32; frozen GEMMs bf16 with f32 accumulation; no gradient checkpointing",
    };
  } finally {
    for (const t of [...frozen, ...trainable, pos, inv, ids, targets, ...moments.flatMap((m) => [m.m, m.v])]) t.dispose();
    gpu.allocator.emptyCache();
  }
}
const lft = section("lft LoRA step", loraStep);
console.log(`lft LoRA step: ${JSON.stringify(lft)}`);

const peftTokens = (peft as Record<string, unknown>).tokens_per_s;
const ratio = "tokensPerS" in lft && typeof peftTokens === "number" ? (lft.tokensPerS as number) / peftTokens : null;
if (ratio !== null) console.log(`lft / PEFT tokens/s: ${fmt(ratio, 3)}`);

const path = writeResults(quick ? "gpu-quick" : "gpu", {
  device: gpu.device,
  libraries: gpu.libraries,
  copy,
  gemm: gemmRows,
  attention,
  memoryBound,
  loraStep: { shape: SHAPE, steps: STEPS, lft, peft, lftOverPeftTokensPerS: ratio },
});
console.log(`\nwrote ${path}`);
