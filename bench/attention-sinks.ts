// Attention forward+backward on the CPU with and without sinks (gpt-oss), to show sinks cost nothing when
// absent and little when present. `root` picks the tree whose lft.ts is timed, so the same script times
// main for an A/B: node_modules/.bin/bun bench/attention-sinks.ts [root]  (default: this tree).
import { join } from "node:path";

const root = process.argv[2] ?? join(import.meta.dir, "..");
const { tensor, backward, tidy } = await import(join(root, "lft.ts"));
const { causalAttention } = await import(join(root, "core/autograd/ops/attention.ts"));
const [B, T, Hq, Hkv, D] = [1, 1024, 8, 2, 64];
const values = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);

function medianMs(withSinks: boolean): number {
  const q = tensor(values(B * T * Hq * D), [B, T, Hq, D], { requiresGrad: true });
  const k = tensor(values(B * T * Hkv * D), [B, T, Hkv, D], { requiresGrad: true });
  const v = tensor(values(B * T * Hkv * D), [B, T, Hkv, D], { requiresGrad: true });
  const sinks = withSinks ? tensor(values(Hq), [Hq], { requiresGrad: true }) : null;
  const g = tensor(values(B * T * Hq * D), [B, T, Hq, D]);
  const times: number[] = [];
  for (let it = 0; it < 15; it++) {
    const t0 = performance.now();
    tidy(() => backward(sinks ? causalAttention(q, k, v, { sinks }) : causalAttention(q, k, v), g));
    for (const t of [q, k, v, sinks]) {
      t?.grad?.dispose();
      if (t) t.grad = null;
    }
    times.push(performance.now() - t0);
  }
  for (const t of [q, k, v, sinks, g]) t?.dispose();
  return times.sort((a, b) => a - b)[7]!;
}

console.log(`B=${B} T=${T} Hq=${Hq} Hkv=${Hkv} D=${D}, forward+backward, median of 15 (${root})`);
console.log(`  without sinks: ${medianMs(false).toFixed(1)} ms`);
// main's op has no sinks option: time it only on trees that have one.
if (causalAttention.length >= 4 || /sinks/.test(causalAttention.toString())) console.log(`  with sinks:    ${medianMs(true).toFixed(1)} ms`);
