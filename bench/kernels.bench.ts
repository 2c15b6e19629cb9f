// CPU kernel benchmark: GEMM GFLOP/s through lft (tensor + FFI) against a direct cblas_sgemm call in
// the same process (same OpenBLAS kernels), and fused RMSNorm / RoPE / attention / cross-entropy
// bandwidth against a memcpy ceiling measured in the same run. Run: make bench
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { Bench } from "tinybench";
import { native } from "../ffi/cpu/cpu.ts";
import { backward, blasInfo, empty, ops, randn, type Tensor, tensor, tidy } from "../lft.ts";
import { secondsPerRun, table, writeResults } from "./lib/results.ts";

const quick = process.argv.includes("--quick");
const bench = new Bench({ time: quick ? 200 : 1500, warmupTime: quick ? 50 : 300 });
const { ptr: P, i32, f32 } = FFIType;
// The library is already loaded by the binding, so this handle uses the very same kernels.
const blas = dlopen("libopenblas.so.0", { cblas_sgemm: { args: [i32, i32, i32, i32, i32, i32, f32, P, i32, P, i32, f32, P, i32], returns: FFIType.void } });
const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

interface Gemm {
  label: string;
  m: number;
  n: number;
  k: number;
  transB: boolean;
}
// 1024³, then the GEMMs of one decoder layer of a small Llama (hidden 768, intermediate 2048) on
// 1024 tokens: q/o projection, gate/up, down, and the weight gradient of gate (xᵀ @ dY).
const gemms: Gemm[] = [
  { label: "1024³", m: 1024, n: 1024, k: 1024, transB: false },
  { label: "tokens×hidden→hidden (q/o proj)", m: 1024, n: 768, k: 768, transB: true },
  { label: "tokens×hidden→inter (gate/up)", m: 1024, n: 2048, k: 768, transB: true },
  { label: "tokens×inter→hidden (down)", m: 1024, n: 768, k: 2048, transB: true },
];

const keep: Tensor[] = [];
const gemmRows: { label: string; lft: string; direct: string; m: number; n: number; k: number }[] = [];
for (const g of gemms) {
  const a = randn([g.m, g.k], { seed: 1 });
  const b = randn(g.transB ? [g.n, g.k] : [g.k, g.n], { seed: 2 });
  const c = empty([g.m, g.n]);
  keep.push(a, b, c);
  bench.add(`lft matmul ${g.label}`, () => tidy(() => void ops.matmul(a, b, { transB: g.transB })));
  bench.add(`cblas_sgemm ${g.label}`, () =>
    blas.symbols.cblas_sgemm(
      ROW_MAJOR,
      NO_TRANS,
      g.transB ? TRANS : NO_TRANS,
      g.m,
      g.n,
      g.k,
      1,
      a.ptr as Pointer,
      g.k,
      b.ptr as Pointer,
      g.transB ? g.k : g.n,
      0,
      c.ptr as Pointer,
      g.n,
    ),
  );
}

// Memory-bound kernels: bytes moved = inputs read + outputs written (the least any kernel must move).
const T = 1024;
const H = 768;
const V = 32000;
const heads = 12;
const kvHeads = 4;
const hd = H / heads;
const x = randn([T, H], { seed: 3 });
const w = tensor(new Float32Array(H).fill(1), [H]);
const q = randn([1, T, heads, hd], { seed: 4 });
const k = randn([1, T, kvHeads, hd], { seed: 5 });
const v = randn([1, T, kvHeads, hd], { seed: 6 });
const pos = tensor(
  Int32Array.from({ length: T }, (_, i) => i),
  [1, T],
  { dtype: "i32" },
);
const invFreq = tensor(ops.ropeInvFreq(hd, 10000), [hd / 2]);
const logits = randn([512, V], { seed: 7 });
const targets = tensor(
  Int32Array.from({ length: 512 }, (_, i) => (i * 7919) % V),
  [512],
  { dtype: "i32" },
);
const big = randn([(32 * 1024 * 1024) / 4], { seed: 8 });
const bigOut = empty(big.shape);
keep.push(x, w, q, k, v, pos, invFreq, logits, targets, big, bigOut);

const bytes: Record<string, number> = { memcpy: 2 * big.bytes, rmsNorm: 2 * x.bytes + w.bytes, rope: 2 * q.bytes, crossEntropy: logits.bytes + 512 * 8 };
bench.add("memcpy", () => native.lft_copy_bytes(bigOut.ptr as Pointer, big.ptr as Pointer, big.bytes));
bench.add("rmsNorm", () => tidy(() => void ops.rmsNorm(x, w, { eps: 1e-5 })));
bench.add("rope", () => tidy(() => void ops.rope(q, pos, invFreq)));
bench.add("attention", () => tidy(() => void ops.causalAttention(q, k, v)));
bench.add("crossEntropy", () => tidy(() => void ops.crossEntropy(logits, targets)));
// Forward + backward: the backward recomputes scores (attention) or softmax (cross-entropy) from lse.
const qg = randn([1, T, heads, hd], { seed: 4, requiresGrad: true });
const kg = randn([1, T, kvHeads, hd], { seed: 5, requiresGrad: true });
const vg = randn([1, T, kvHeads, hd], { seed: 6, requiresGrad: true });
const logitsG = randn([512, V], { seed: 7, requiresGrad: true });
keep.push(qg, kg, vg, logitsG);
const dropGrads = (...ts: Tensor[]) =>
  ts.forEach((t) => {
    t.grad?.dispose();
    t.grad = null;
  });
bench.add("attention fwd+bwd", () => {
  tidy(() => backward(ops.sum(ops.causalAttention(qg, kg, vg))));
  dropGrads(qg, kg, vg);
});
bench.add("crossEntropy fwd+bwd", () => {
  tidy(() => backward(ops.crossEntropy(logitsG, targets)));
  dropGrads(logitsG);
});

await bench.run();
const byName = new Map(bench.tasks.map((t) => [t.name, secondsPerRun(t)]));
const sec = (name: string) => byName.get(name)!;

for (const g of gemms) {
  const flops = 2 * g.m * g.n * g.k;
  gemmRows.push({
    label: g.label,
    m: g.m,
    n: g.n,
    k: g.k,
    lft: (flops / sec(`lft matmul ${g.label}`) / 1e9).toFixed(1),
    direct: (flops / sec(`cblas_sgemm ${g.label}`) / 1e9).toFixed(1),
  });
}
const ceiling = bytes.memcpy! / sec("memcpy") / 1e9;
const attnFlops = (4 * T * T * hd * heads) / 2; // causal: half of QKᵀ and PV
// Attention is compute-bound (O(T²) work on O(T) bytes): it is reported in GFLOP/s, not GB/s.
// Backward FLOPs: dq, dk, dv plus the recomputed scores = 2.5x the forward, as flash-attention counts.
const flops: Record<string, number> = { attention: attnFlops, "attention fwd+bwd": attnFlops * 3.5 };
bytes["crossEntropy fwd+bwd"] = 3 * logits.bytes + 512 * 8;
const bandwidth = ["rmsNorm", "rope", "crossEntropy", "crossEntropy fwd+bwd", "attention", "attention fwd+bwd"].map((name) => ({
  kernel: name,
  "GB/s": bytes[name] ? (bytes[name]! / sec(name) / 1e9).toFixed(2) : "-",
  "of memcpy": bytes[name] ? `${((bytes[name]! / sec(name) / 1e9 / ceiling) * 100).toFixed(0)}%` : "-",
  ms: (sec(name) * 1e3).toFixed(3),
  "GFLOP/s": flops[name] ? (flops[name]! / sec(name) / 1e9).toFixed(1) : "-",
}));

// FFI + tensor overhead at 1024³, measured in alternating pairs so drift in clock speed or load hits
// both sides alike; the medians are compared.
const g0 = gemms[0]!;
const [a0, b0, c0] = keep.slice(0, 3) as [Tensor, Tensor, Tensor];
const lftTimes: number[] = [];
const directTimes: number[] = [];
for (let r = 0; r < (quick ? 8 : 30); r++) {
  let t = performance.now();
  tidy(() => void ops.matmul(a0, b0));
  lftTimes.push(performance.now() - t);
  t = performance.now();
  blas.symbols.cblas_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, g0.m, g0.n, g0.k, 1, a0.ptr as Pointer, g0.k, b0.ptr as Pointer, g0.n, 0, c0.ptr as Pointer, g0.n);
  directTimes.push(performance.now() - t);
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const pairedOverhead = (median(lftTimes) / median(directTimes) - 1) * 100;

const overhead = gemmRows.map((r) => ({
  label: r.label,
  "lft GFLOP/s": r.lft,
  "cblas GFLOP/s": r.direct,
  overhead: `${((Number(r.direct) / Number(r.lft) - 1) * 100).toFixed(1)}%`,
}));
console.log(`BLAS: ${blasInfo().corename} — ${blasInfo().reason}; ${blasInfo().threads} threads`);
console.log(table(overhead));
console.log(
  `1024³ paired medians over ${lftTimes.length} rounds: lft ${median(lftTimes).toFixed(2)} ms, cblas ${median(directTimes).toFixed(2)} ms, overhead ${pairedOverhead.toFixed(2)}%`,
);
console.log(`memcpy ceiling: ${ceiling.toFixed(2)} GB/s`);
console.log(table(bandwidth));
const path = writeResults(quick ? "cpu-kernels-quick" : "cpu-kernels", {
  blas: blasInfo(),
  gemm: gemmRows.map((r) => ({ ...r, overheadPercent: Number(((Number(r.direct) / Number(r.lft) - 1) * 100).toFixed(2)) })),
  gemm1024PairedOverheadPercent: Number(pairedOverhead.toFixed(2)),
  memcpyGBps: Number(ceiling.toFixed(2)),
  fused: bandwidth,
  shapes: { tokens: T, hidden: H, heads, kvHeads, vocab: V, ceRows: 512 },
});
console.log(`wrote ${path}`);
for (const t of keep) t.dispose();
