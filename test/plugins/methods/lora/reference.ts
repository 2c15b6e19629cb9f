// LoRA test helpers: a Linear with given weights, a LoraRuntime, and the float64 LoRA / DoRA layer
// the LoraLinear tests compare against.
import { Linear, TrainRng, tensor } from "../../../../core/index.ts";
import type { LoraRuntime } from "../../../../plugins/methods/lora/index.ts";

/** A Linear with given f32 weight (and bias). */
export function linearOf(inF: number, out: number, w: ArrayLike<number>, bias?: ArrayLike<number>): Linear {
  const lin = new Linear(inF, out, { bias: bias !== undefined });
  lin.setParameter("weight", tensor(w, [out, inF]))._unsafeUnwrap();
  if (bias) lin.setParameter("bias", tensor(bias, [out]))._unsafeUnwrap();
  return lin;
}

export function runtimeOf(seed = 0n, gradientCheckpointing = false): LoraRuntime {
  return { training: true, disabled: false, active: null, bound: null, epoch: 0, fallback: new TrainRng(seed), model: { gradientCheckpointing } };
}

/** y = x·wᵀ for row-major x [n, k], w [m, k] in float64. */
export function matmulT(x: ArrayLike<number>, w: ArrayLike<number>, n: number, k: number, m: number): Float64Array {
  const y = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let l = 0; l < k; l++) s += x[i * k + l]! * w[j * k + l]!;
      y[i * m + j] = s;
    }
  return y;
}

/** Float64 LoRA / DoRA layer: x [n, in] -> [n, out]. `norm` fixes DoRA's row norms (PEFT detaches them). */
export interface RefLayer {
  n: number;
  inF: number;
  out: number;
  r: number;
  scale: number;
  w: ArrayLike<number>;
  bias?: ArrayLike<number>;
  /** dropout mask × 1/(1-p) applied to x before the adapter (and DoRA's W·x̃); default none */
  mask?: ArrayLike<number>;
}

export function doraNorm(L: RefLayer, a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const norm = new Float64Array(L.out);
  for (let o = 0; o < L.out; o++) {
    let s = 0;
    for (let l = 0; l < L.inF; l++) {
      let ba = 0;
      for (let i = 0; i < L.r; i++) ba += b[o * L.r + i]! * a[i * L.inF + l]!;
      const v = L.w[o * L.inF + l]! + L.scale * ba;
      s += v * v;
    }
    norm[o] = Math.sqrt(s);
  }
  return norm;
}

export function refLayer(
  L: RefLayer,
  x: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  dora?: { m: ArrayLike<number>; norm: ArrayLike<number> },
): Float64Array {
  const xd = L.mask ? Float64Array.from(x, (v, i) => v * L.mask![i]!) : Float64Array.from(x);
  const base = matmulT(x, L.w, L.n, L.inF, L.out);
  const lora = matmulT(matmulT(xd, a, L.n, L.inF, L.r), b, L.n, L.r, L.out);
  const wxd = L.mask ? matmulT(xd, L.w, L.n, L.inF, L.out) : base;
  const y = new Float64Array(L.n * L.out);
  for (let i = 0; i < L.n; i++)
    for (let o = 0; o < L.out; o++) {
      const k = i * L.out + o;
      const bias = L.bias ? L.bias[o]! : 0;
      if (!dora) y[k] = base[k]! + bias + L.scale * lora[k]!;
      else {
        const f = dora.m[o]! / dora.norm[o]!;
        y[k] = base[k]! + bias + (f - 1) * wxd[k]! + f * L.scale * lora[k]!;
      }
    }
  return y;
}
