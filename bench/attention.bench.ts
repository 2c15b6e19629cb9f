// The CPU attention kernel at the head shapes people train: forward and forward + backward GFLOP/s for
// train.bench's 22M shape (head_dim 32), Qwen3-0.6B's (16/8 heads of 128), a long sequence (32/8 of 64) and
// one kv head at batch 1 (8/1 of 256, Gemma-2B-like), whose backward takes the two-pass form (fewer
// (batch, kv head) pairs than twice the threads). Best of several runs each; a 1024³ sgemm beside them.
// Run: bun bench/attention.bench.ts   -> bench/results/attention.json
import { loadavg } from "node:os";
import { backward, blasInfo, cpuBackend, ops, randn, Tensor, tidy } from "../lft.ts";
import { table, writeResults } from "./lib/results.ts";

interface Shape {
  label: string;
  B: number;
  T: number;
  Hq: number;
  Hkv: number;
  D: number;
}
const shapes: Shape[] = [
  { label: "22M Llama (train.bench)", B: 4, T: 512, Hq: 8, Hkv: 4, D: 32 },
  { label: "Qwen3-0.6B", B: 1, T: 512, Hq: 16, Hkv: 8, D: 128 },
  { label: "long sequence", B: 1, T: 2048, Hq: 32, Hkv: 8, D: 64 },
  { label: "one kv head (two-pass backward)", B: 1, T: 512, Hq: 8, Hkv: 1, D: 256 },
];

/** Best wall time of `fn` over `reps` runs after one warm-up, in seconds. */
function best(fn: () => void, reps = 7): number {
  fn();
  let t = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    fn();
    t = Math.min(t, (performance.now() - s) / 1000);
  }
  return t;
}

const rows = shapes.map((s) => {
  const q = randn([s.B, s.T, s.Hq, s.D], { seed: 1, requiresGrad: true });
  const k = randn([s.B, s.T, s.Hkv, s.D], { seed: 2, requiresGrad: true });
  const v = randn([s.B, s.T, s.Hkv, s.D], { seed: 3, requiresGrad: true });
  // causal QKᵀ and PV: 2 · 2 · B·H·(T²/2)·D; the backward recomputes scores and makes dq, dk, dv: 2.5× that
  const forwardFlops = 2 * s.B * s.Hq * s.T * s.T * s.D;
  const forward = best(() => tidy(() => void ops.causalAttention(q, k, v)));
  const both = best(() => {
    tidy(() => backward(ops.sum(ops.causalAttention(q, k, v))));
    for (const t of [q, k, v]) {
      t.grad?.dispose();
      t.grad = null;
    }
  });
  for (const t of [q, k, v]) t.dispose();
  return {
    shape: s.label,
    "B×T, heads q/kv, d": `${s.B}×${s.T}, ${s.Hq}/${s.Hkv}, ${s.D}`,
    "forward ms": Number((forward * 1e3).toFixed(2)),
    "forward GFLOP/s": Number((forwardFlops / forward / 1e9).toFixed(1)),
    "fwd+bwd ms": Number((both * 1e3).toFixed(2)),
    "fwd+bwd GFLOP/s": Number(((3.5 * forwardFlops) / both / 1e9).toFixed(1)),
  };
});

const n = 1024;
const [a, b, c] = [0, 1, 2].map(() => Tensor.alloc(cpuBackend, [n, n], "f32", false));
cpuBackend.fill(a!, 0.5);
cpuBackend.fill(b!, 0.25);
const gemm = (2 * n ** 3) / best(() => cpuBackend.matmul(c!, a!, b!), 5) / 1e9;

console.log(
  `BLAS ${blasInfo().corename} x${blasInfo().threads}; load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}; 1024³ sgemm ${gemm.toFixed(1)} GFLOP/s`,
);
console.log(table(rows));
const path = writeResults("attention", {
  blas: blasInfo(),
  loadAverage: loadavg(),
  gemmCeilingGflops: Number(gemm.toFixed(1)),
  rows,
  note: "flops: causal forward 2·B·H·T²·D (half of QKᵀ and PV), forward + backward 3.5× that, as flash-attention counts",
});
console.log(`wrote ${path}`);
