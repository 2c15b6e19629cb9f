// PiSSA initialisation (Meng et al. 2024, as PEFT's `init_lora_weights="pissa"`): the adapter starts as
// the top-r singular part of W and the base keeps the residual, so base + adapter reproduces W at step 0.
//   W = U S Vᵀ;  A = sqrt(S_r / scale) V_rᵀ [r, in];  B = U_r sqrt(S_r / scale) [out, r];  W_res = W − scale·B·A
import { svdTop } from "../../../core/index.ts";

export interface PissaFactors {
  /** [r, in] */
  readonly a: Float32Array;
  /** [out, r] */
  readonly b: Float32Array;
  /** [out, in]: W − scale·B·A, computed from the f32-rounded A and B so the sum rebuilds W to f32 rounding. */
  readonly residual: Float32Array;
  /** The top r singular values of W. */
  readonly singular: Float64Array;
}

/** `niter` < 0: exact SVD; otherwise randomized subspace iteration with that many passes (PEFT's pissa_niter_N). */
export function pissaFactors(w: ArrayLike<number>, out: number, inF: number, r: number, scale: number, niter: number, seed = 0n): PissaFactors {
  if (w.length !== out * inF) throw new RangeError(`pissa: ${w.length} weights do not fill [${out}, ${inF}]`);
  if (!(r >= 1 && r <= Math.min(out, inF))) throw new RangeError(`pissa: rank ${r} must be in [1, ${Math.min(out, inF)}] for a [${out}, ${inF}] weight`);
  const w64 = Float64Array.from(w);
  const d = svdTop(w64, out, inF, r, { niter, seed });
  const a = new Float32Array(r * inF);
  const b = new Float32Array(out * r);
  for (let i = 0; i < r; i++) {
    const root = Math.sqrt(d.s[i]! / scale);
    for (let l = 0; l < inF; l++) a[i * inF + l] = root * d.v[l * d.k + i]!;
    for (let o = 0; o < out; o++) b[o * r + i] = d.u[o * d.k + i]! * root;
  }
  const residual = new Float32Array(out * inF);
  for (let o = 0; o < out; o++) {
    for (let l = 0; l < inF; l++) {
      let ba = 0;
      for (let i = 0; i < r; i++) ba += b[o * r + i]! * a[i * inF + l]!;
      residual[o * inF + l] = w64[o * inF + l]! - scale * ba;
    }
  }
  return { a, b, residual, singular: d.s };
}
