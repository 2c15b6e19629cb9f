// Shared setup for the method tests: the shipped stories260K model (a real trained Llama in HF layout,
// 5 layers, tied embeddings), a registry with the llama family and the methods, and float64 references.
import { resolve } from "node:path";
import { type CausalLM, type LoadModelOptions, Linear, TrainRng, createRegistry, loadModel, noGrad, randn, tensor, tidy } from "../../../core/index.ts";
import methodsPlugin from "../../../plugins/methods/index.ts";
import type { LoraRuntime } from "../../../plugins/methods/lora/index.ts";
import llamaPlugin, { llama } from "../../../plugins/models/llama.ts";

export const STORIES = resolve(import.meta.dir, "../../../examples/models/stories260K");
export const registry = createRegistry();
registry.use(llamaPlugin);
registry.use(methodsPlugin);
export const family = llama;

export function loadStories(opts: LoadModelOptions = {}): CausalLM {
  return loadModel(STORIES, registry, opts)._unsafeUnwrap().model;
}

export const IDS = [1, 403, 407, 261, 496, 290, 11, 375];

/** Logits of one row of ids, in eval mode and without gradients. */
export function logitsOf(model: CausalLM, ids: readonly number[] = IDS): Float32Array {
  return noGrad(() => tidy(() => model.forward(tensor(ids, [1, ids.length], { dtype: "i32" })).toArray() as Float32Array));
}

/** Replaces every trainable parameter by N(0, std) values, as training would move them away from the init. */
export function perturbTrainable(model: CausalLM, seed: number, std = 0.05): void {
  model.trainableParameters().forEach(([path, t], i) => {
    const shift = randn(t.shape, { seed, offset: BigInt(i) << 32n, std });
    const values = t.toArray();
    const sv = shift.toArray();
    shift.dispose();
    model.setParameter(path, tensor(Float32Array.from(values, (v, j) => v + sv[j]!), t.shape))._unsafeUnwrap();
  });
}

/** A Linear with given f32 weight (and bias). */
export function linearOf(inF: number, out: number, w: ArrayLike<number>, bias?: ArrayLike<number>): Linear {
  const lin = new Linear(inF, out, { bias: bias !== undefined });
  lin.setParameter("weight", tensor(w, [out, inF]))._unsafeUnwrap();
  if (bias) lin.setParameter("bias", tensor(bias, [out]))._unsafeUnwrap();
  return lin;
}

export function runtimeOf(seed = 0n, gradientCheckpointing = false): LoraRuntime {
  return { training: true, bound: null, epoch: 0, fallback: new TrainRng(seed), model: { gradientCheckpointing } };
}

/** y = x·wᵀ for row-major x [n, k], w [m, k] in float64. */
export function matmulT(x: ArrayLike<number>, w: ArrayLike<number>, n: number, k: number, m: number): Float64Array {
  const y = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
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

export function refLayer(L: RefLayer, x: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, dora?: { m: ArrayLike<number>; norm: ArrayLike<number> }): Float64Array {
  const xd = L.mask ? Float64Array.from(x, (v, i) => v * L.mask![i]!) : Float64Array.from(x);
  const base = matmulT(x, L.w, L.n, L.inF, L.out);
  const lora = matmulT(matmulT(xd, a, L.n, L.inF, L.r), b, L.n, L.r, L.out);
  const wxd = L.mask ? matmulT(xd, L.w, L.n, L.inF, L.out) : base;
  const y = new Float64Array(L.n * L.out);
  for (let i = 0; i < L.n; i++) for (let o = 0; o < L.out; o++) {
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
