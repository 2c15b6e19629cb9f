// GaLore's projection (Zhao et al. 2024, galore_torch's GaLoreProjector): the top-r singular vectors of
// the gradient G [m, n] = U S Vᵀ: right projects with V_rᵀ [r, n], left with U_r [m, r], full with both.
// Which side an [m, n] matrix uses follows `proj_type`: std projects the smaller dimension away
// (right when m >= n), reverse_std the larger, left/right/full as named. The SVD is exact (one-sided
// Jacobi, core's svdJacobi) while m·n·min(m, n) <= 2^22 (e.g. 64×172); above that it is randomised
// subspace iteration (4 iterations, 8 extra directions): ~50 ms for 688×256 where Jacobi takes ~1 s.
import { svdTop } from "../../../core/index.ts";
import type { Projection, Side } from "../lowrank/projection.ts";

export const galoreProjTypes = ["std", "reverse_std", "right", "left", "full"] as const;
export type GaloreProjType = (typeof galoreProjTypes)[number];

export function galoreSide(projType: GaloreProjType, m: number, n: number): Side {
  if (projType === "std") return m >= n ? "right" : "left";
  if (projType === "reverse_std") return m >= n ? "left" : "right";
  return projType;
}

const EXACT_LIMIT = 2 ** 22;

export function svdProjection(grad: Float64Array, m: number, n: number, r: number, side: Side, seed: number): Projection {
  const exact = m * n * Math.min(m, n) <= EXACT_LIMIT;
  const d = svdTop(grad, m, n, r, { niter: exact ? -1 : 4, seed: BigInt(seed) });
  const k = d.k;
  const right = (): Float64Array => {
    const p = new Float64Array(r * n);
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) p[i * n + j] = d.v[j * k + i]!;
    return p;
  };
  const left = (): Float64Array => {
    const p = new Float64Array(m * r);
    for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) p[i * r + j] = d.u[i * k + j]!;
    return p;
  };
  if (side === "right") return { side, r, right: right() };
  if (side === "left") return { side, r, left: left() };
  return { side, r, left: left(), right: right() };
}
