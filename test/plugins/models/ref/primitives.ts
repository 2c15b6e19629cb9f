// Float64 building blocks shared by the independent reference forwards (hf-reference.ts and ref/<family>.ts):
// weight lookup, y = W x + b, RMSNorm, the activations, softmax and rotate_half RoPE, as plain loops.

/** HF weight name -> its values in double. */
export type Weights = Map<string, Float64Array>;

export function w(W: Weights, name: string): Float64Array {
  const t = W.get(name);
  if (!t) throw new Error(`reference: missing weight ${name}`);
  return t;
}

/** y = W x (+ b), W [out, in] */
export function linear(x: Float64Array, W: Float64Array, b?: Float64Array): Float64Array {
  const n = x.length;
  const y = new Float64Array(W.length / n);
  for (let o = 0; o < y.length; o++) {
    let s = b ? b[o]! : 0;
    for (let i = 0; i < n; i++) s += W[o * n + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** RMSNorm; Gemma scales by (1 + w). */
export function rmsNorm(x: Float64Array, g: Float64Array, eps: number, gemma: boolean): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const r = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * r * (gemma ? 1 + g[i]! : g[i]!));
}

export const act = (kind: "silu" | "gelu_pytorch_tanh", v: number) =>
  kind === "silu" ? v / (1 + Math.exp(-v)) : 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

export function softmax(xs: number[]): number[] {
  const m = xs.reduce((a, v) => Math.max(a, v), -Infinity);
  const e = xs.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** rotate_half RoPE on one head: the first 2 * invFreq.length dims, cos and sin times `factor`. */
export function rope(x: Float64Array, pos: number, invFreq: number[], factor: number): Float64Array {
  const half = invFreq.length;
  const y = Float64Array.from(x);
  for (let i = 0; i < half; i++) {
    const c = Math.cos(pos * invFreq[i]!) * factor;
    const s = Math.sin(pos * invFreq[i]!) * factor;
    y[i] = x[i]! * c - x[i + half]! * s;
    y[i + half] = x[i + half]! * c + x[i]! * s;
  }
  return y;
}
