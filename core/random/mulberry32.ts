// mulberry32: a tiny seeded generator of uniform floats in [0, 1) from a 32-bit seed. For choices that must
// be reproducible but need no statistical strength (k-shot example order, BAdam's block order, fuzzing);
// tensors use Philox (philox.ts).
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
