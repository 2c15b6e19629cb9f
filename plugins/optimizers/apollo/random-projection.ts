// APOLLO's random projection (Zhu et al. 2024, apollo_torch's GradientProjector): a Gaussian matrix
// with entries N(0, 1/r), drawn from a seed, [r, n] on the right or [m, r] on the left. No SVD is
// needed, and the matrix could be regenerated from its seed. The draw is Philox4x32-10 (Box-Muller
// on its doubles), not torch's generator: the same seed gives a different (equally distributed) matrix.
import { Philox } from "../../../core/index.ts";
import type { Projection, Side } from "../lowrank/projection.ts";

export const apolloProjTypes = ["std", "right", "left"] as const;
export type ApolloProjType = (typeof apolloProjTypes)[number];

export function apolloSide(projType: ApolloProjType, m: number, n: number): Side {
  if (projType === "std") return m >= n ? "right" : "left";
  return projType;
}

function gaussians(count: number, seed: number, std: number): Float64Array {
  const rng = new Philox(BigInt(seed));
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u1 = rng.nextDouble() || Number.MIN_VALUE;
    out[i] = std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.nextDouble());
  }
  return out;
}

export function randomProjection(_grad: Float64Array, m: number, n: number, r: number, side: Side, seed: number): Projection {
  const std = Math.sqrt(1 / r);
  if (side === "right") return { side, r, right: gaussians(r * n, seed, std) };
  if (side === "left") return { side, r, left: gaussians(m * r, seed, std) };
  throw new RangeError(`apollo: no random projection on side "${side}"`);
}
