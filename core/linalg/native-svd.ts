// An optional native thin SVD over f32 host arrays (LAPACK's sgesdd on the CPU build), provided by
// whoever loads a native library and used by code that needs an exact SVD fast (GaLore's projection).
// Core holds none: without a provider callers fall back to svdJacobi / svdTop (float64, in TypeScript).
import type { Result } from "neverthrow";

/** a [m, n] = u [m, k] · diag(s) · vt [k, n], row-major, k = min(m, n), s descending. */
export interface NativeSvdResult {
  readonly k: number;
  readonly s: Float32Array;
  readonly u: Float32Array;
  readonly vt: Float32Array;
}

/** Thin SVD of the row-major [m, n] matrix `a`; an error for bad sizes or a failed factorisation. */
export type NativeSvd = (a: Float32Array, m: number, n: number) => Result<NativeSvdResult, Error>;

let provider: NativeSvd | null = null;

/** Installs (or, with null, removes) the native SVD. */
export function setNativeSvd(fn: NativeSvd | null): void {
  provider = fn;
}

/** The native SVD, or null when no native library provides one. */
export function nativeSvd(): NativeSvd | null {
  return provider;
}
