// GaLore's projection (Zhao et al. 2024, galore_torch's GaLoreProjector): the top-r singular vectors of
// the gradient G [m, n] = U S Vᵀ: right projects with V_rᵀ [r, n], left with U_r [m, r], full with both.
// Which side an [m, n] matrix uses follows `proj_type`: std projects the smaller dimension away
// (right when m >= n), reverse_std the larger, left/right/full as named.
// The SVD is exact: core's native SVD (LAPACK sgesdd through OpenBLAS, installed by the CPU build) when
// there is one; otherwise float64 one-sided Jacobi while m·n·min(m, n) <= 2^22 (e.g. 64×172), and
// randomised subspace iteration (4 iterations, 8 extra directions) above that (Jacobi takes ~1 s for
// 688×256 in TypeScript). Singular vectors are only defined up to sign; each pair is flipped so the
// largest entry of u is positive, so the basis does not depend on which SVD computed it.
import { nativeSvd, svdTop } from "../../../core/index.ts";
import type { Projection, Side } from "../lowrank/projection.ts";

export const galoreProjTypes = ["std", "reverse_std", "right", "left", "full"] as const;
export type GaloreProjType = (typeof galoreProjTypes)[number];

export function galoreSide(projType: GaloreProjType, m: number, n: number): Side {
  if (projType === "std") return m >= n ? "right" : "left";
  if (projType === "reverse_std") return m >= n ? "left" : "right";
  return projType;
}

const EXACT_LIMIT = 2 ** 22;

/** U_r [m, r] and V_rᵀ [r, n] of `grad`, each pair's sign fixed. */
export function topSingular(grad: Float64Array, m: number, n: number, r: number, seed: number): { u: Float64Array; vt: Float64Array } {
  const u = new Float64Array(m * r);
  const vt = new Float64Array(r * n);
  const native = nativeSvd()?.(Float32Array.from(grad), m, n);
  if (native?.isOk()) {
    const d = native.value;
    for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) u[i * r + j] = d.u[i * d.k + j]!;
    vt.set(d.vt.subarray(0, r * n));
  } else {
    const exact = m * n * Math.min(m, n) <= EXACT_LIMIT;
    const d = svdTop(grad, m, n, r, { niter: exact ? -1 : 4, seed: BigInt(seed) });
    for (let i = 0; i < m; i++) for (let j = 0; j < d.k; j++) u[i * r + j] = d.u[i * d.k + j]!;
    for (let i = 0; i < d.k; i++) for (let j = 0; j < n; j++) vt[i * n + j] = d.v[j * d.k + i]!;
  }
  for (let j = 0; j < r; j++) {
    let big = 0;
    for (let i = 0; i < m; i++) if (Math.abs(u[i * r + j]!) > Math.abs(big)) big = u[i * r + j]!;
    if (big >= 0) continue;
    for (let i = 0; i < m; i++) u[i * r + j] = -u[i * r + j]!;
    for (let l = 0; l < n; l++) vt[j * n + l] = -vt[j * n + l]!;
  }
  return { u, vt };
}

export function svdProjection(grad: Float64Array, m: number, n: number, r: number, side: Side, seed: number): Projection {
  const { u, vt } = topSingular(grad, m, n, r, seed);
  if (side === "right") return { side, r, right: vt };
  if (side === "left") return { side, r, left: u };
  return { side, r, left: u, right: vt };
}
