// The float64 SVD behind PiSSA: exact Jacobi (reconstruction and orthonormality to 1e-12), randomized
// top-r against a matrix of known spectrum, and PiSSA's factors: W = W_res + scale·B·A, A and B carry
// sqrt(S_r / scale) on orthonormal singular vectors, and ‖W_res‖₂ = σ_{r+1} (Eckart–Young), which only
// holds if the top r directions were taken.
import { expect, test } from "bun:test";
import { type SVD, svdJacobi, svdTop } from "../../../core/index.ts";
import { pissaFactors } from "../../../plugins/methods/lora/pissa.ts";
import { randomArray } from "../../helpers/random.ts";

function reconstruct(d: SVD): Float64Array {
  const a = new Float64Array(d.m * d.n);
  for (let i = 0; i < d.m; i++)
    for (let j = 0; j < d.n; j++) {
      let s = 0;
      for (let c = 0; c < d.k; c++) s += d.u[i * d.k + c]! * d.s[c]! * d.v[j * d.k + c]!;
      a[i * d.n + j] = s;
    }
  return a;
}

/** max |XᵀX − I| over the columns of X [rows, k] that have a nonzero singular value. */
function orthoError(x: Float64Array, rows: number, k: number, cols = k): number {
  let worst = 0;
  for (let p = 0; p < cols; p++)
    for (let q = 0; q < cols; q++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += x[i * k + p]! * x[i * k + q]!;
      worst = Math.max(worst, Math.abs(s - (p === q ? 1 : 0)));
    }
  return worst;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

test("Jacobi SVD: u·diag(s)·vᵀ rebuilds tall and wide matrices; u and v orthonormal; s sorted", () => {
  for (const [m, n] of [
    [9, 6],
    [6, 9],
    [7, 7],
  ] as const) {
    const a = randomArray(m * n, m * 10 + n);
    const d = svdJacobi(a, m, n);
    expect(d.k).toBe(Math.min(m, n));
    expect(maxDiff(reconstruct(d), a)).toBeLessThan(1e-12);
    expect(orthoError(d.u, m, d.k)).toBeLessThan(1e-12);
    expect(orthoError(d.v, n, d.k)).toBeLessThan(1e-12);
    for (let i = 1; i < d.k; i++) expect(d.s[i]!).toBeLessThanOrEqual(d.s[i - 1]!);
  }
});

test("Jacobi SVD of a rank-2 matrix: two nonzero singular values, exact rebuild", () => {
  const [m, n] = [6, 5];
  const x = randomArray(m * 2, 1);
  const y = randomArray(n * 2, 2);
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[i * n + j] = x[i * 2]! * y[j * 2]! + x[i * 2 + 1]! * y[j * 2 + 1]!;
  const d = svdJacobi(a, m, n);
  expect(d.s[1]!).toBeGreaterThan(1e-3);
  for (let i = 2; i < d.k; i++) expect(d.s[i]!).toBeLessThan(1e-12);
  expect(maxDiff(reconstruct(d), a)).toBeLessThan(1e-12);
});

test("randomized top-r SVD finds the leading singular triplets of a matrix with a known spectrum", () => {
  const [m, n, k] = [200, 160, 160];
  const u = svdJacobi(randomArray(m * k, 5), m, k).u;
  const v = svdJacobi(randomArray(n * k, 6), n, k).u;
  const s = Float64Array.from({ length: k }, (_, i) => 0.8 ** i);
  const a = reconstruct({ m, n, k, u, s, v });
  const top = svdTop(a, m, n, 4, { niter: 8, seed: 3n });
  expect(top.k).toBe(4);
  for (let i = 0; i < 4; i++) {
    expect(Math.abs(top.s[i]! - s[i]!)).toBeLessThan(1e-8);
    let align = 0;
    for (let r = 0; r < m; r++) align += top.u[r * 4 + i]! * u[r * k + i]!;
    expect(Math.abs(Math.abs(align) - 1)).toBeLessThan(1e-6);
  }
  // Without power iterations the same sketch is visibly worse: the iterations do the work.
  const rough = svdTop(a, m, n, 4, { niter: 0, oversample: 0, seed: 3n });
  expect(Math.abs(rough.s[3]! - s[3]!)).toBeGreaterThan(1e-6);
});

test("PiSSA factors: W_res + scale·B·A = W, AAᵀ = BᵀB = diag(S_r/scale), and ‖W_res‖₂ = σ_{r+1}", () => {
  const [out, inF, r, scale] = [24, 40, 4, 2];
  const w = randomArray(out * inF, 9);
  for (const niter of [-1, 6]) {
    const f = pissaFactors(w, out, inF, r, scale, niter, 1n);
    let worst = 0;
    for (let o = 0; o < out; o++)
      for (let l = 0; l < inF; l++) {
        let ba = 0;
        for (let i = 0; i < r; i++) ba += f.b[o * r + i]! * f.a[i * inF + l]!;
        worst = Math.max(worst, Math.abs(f.residual[o * inF + l]! + scale * ba - w[o * inF + l]!));
      }
    expect(worst).toBeLessThan(1e-6);
    const exact = svdJacobi(Float64Array.from(w), out, inF);
    // A random matrix has a flat spectrum, the hard case for subspace iteration: 6 passes get within 1e-4.
    const tol = niter < 0 ? 1e-9 : 1e-4;
    for (let i = 0; i < r; i++) expect(Math.abs(f.singular[i]! - exact.s[i]!)).toBeLessThan(tol);
    for (let p = 0; p < r; p++)
      for (let q = 0; q < r; q++) {
        let aa = 0;
        for (let l = 0; l < inF; l++) aa += f.a[p * inF + l]! * f.a[q * inF + l]!;
        let bb = 0;
        for (let o = 0; o < out; o++) bb += f.b[o * r + p]! * f.b[o * r + q]!;
        const want = p === q ? f.singular[p]! / scale : 0;
        expect(Math.abs(aa - want)).toBeLessThan(1e-5);
        expect(Math.abs(bb - want)).toBeLessThan(1e-5);
      }
    const res = svdJacobi(Float64Array.from(f.residual), out, inF);
    expect(Math.abs(res.s[0]! - exact.s[r]!)).toBeLessThan(niter < 0 ? 1e-5 : 1e-3);
  }
  expect(() => pissaFactors(w, out, inF, 30, scale, -1)).toThrow("rank 30 must be in [1, 24]");
});
