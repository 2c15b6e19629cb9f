// Seeded random inputs for tests: float64 host arrays from Philox, so a failing case can be replayed.
import { Philox } from "../../core/random/philox.ts";

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const rng = new Philox(BigInt(seed));
  const out = new Float64Array(n);
  // Values are rounded to f32 so the f64 reference sees exactly what the kernel sees.
  for (let i = 0; i < n; i++) out[i] = Math.fround(lo + (hi - lo) * rng.nextDouble());
  return out;
}

export function randomInts(n: number, seed: number, limit: number): Int32Array {
  const rng = new Philox(BigInt(seed));
  return Int32Array.from({ length: n }, () => rng.nextInt(limit));
}
