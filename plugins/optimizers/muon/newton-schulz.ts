// Muon's orthogonalisation: the quintic Newton–Schulz iteration X ← aX + (bA + cA²)X with A = XXᵀ and
// (a, b, c) = (3.4445, −4.7750, 2.0315), from X₀ = G / (‖G‖_F + 1e-7), on the wide orientation (a tall
// G is transposed first, so A is the smaller Gram matrix). Whole-matrix backend ops: three matmuls per
// iteration. Muon's reference runs this in bf16 on a GPU; here it runs in f32.
import { Tensor } from "../../../core/index.ts";

export const NS_COEFFICIENTS = [3.4445, -4.775, 2.0315] as const;

function scratch(like: Tensor, shape: number[]): Tensor {
  return Tensor.alloc(like.backend, shape, "f32", false);
}

/** An untracked [rows, cols] tensor ≈ U·S'·Vᵀ of g (g = U·S·Vᵀ, S' near 1); the caller disposes it. */
export function orthogonalise(g: Tensor, steps: number): Tensor {
  const [rows, cols] = g.shape as [number, number];
  const be = g.backend;
  const tall = rows > cols;
  const [r, c] = tall ? [cols, rows] : [rows, cols];
  const x = scratch(g, [r, c]);
  if (tall) be.permute(x, g, [1, 0]);
  else be.copy(x, g);
  be.scale(x, x, 1 / (Math.sqrt(be.sumSquares(x)) + 1e-7));
  const a = scratch(g, [r, r]);
  const aa = scratch(g, [r, r]);
  const bx = scratch(g, [r, c]);
  const [ca, cb, cc] = NS_COEFFICIENTS;
  for (let i = 0; i < steps; i++) {
    be.matmul(a, x, x, { transB: true });
    be.matmul(aa, a, a);
    be.scale(aa, aa, cc);
    be.axpy(aa, a, cb);
    be.matmul(bx, aa, x);
    be.scale(x, x, ca);
    be.axpy(x, bx, 1);
  }
  a.dispose();
  aa.dispose();
  bx.dispose();
  if (!tall) return x;
  const out = scratch(g, [rows, cols]);
  be.permute(out, x, [1, 0]);
  x.dispose();
  return out;
}
