// An independent float64 decoder written with plain loops, reading weights by their HF names: the
// reference the shared decoder (and every family on it) is checked against. It covers the knobs the
// families turn: GQA, partial RoPE, q/k/v bias, q/k norm, Gemma's (1 + w) norms, tanh-GELU, embedding
// scale, sandwich norms, sliding windows, attention and final soft-capping, tied embeddings, segment ids.

export interface RefConfig {
  vocab: number;
  hidden: number;
  inter: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  normOffset: number;
  act: "silu" | "gelu_tanh";
  /** inverse frequencies (computed by the caller's own reference formula) */
  invFreq: ArrayLike<number>;
  attnScale: number;
  windows: number[];
  attnSoftcap: number;
  finalSoftcap: number;
  embedScale: number;
  tied: boolean;
  qkNorm: boolean;
  sandwich: boolean;
  qkvBias: boolean;
  oBias: boolean;
}

export type Weights = Map<string, Float64Array>;

function w(W: Weights, name: string): Float64Array {
  const t = W.get(name);
  if (!t) throw new Error(`reference: missing weight ${name}`);
  return t;
}

/** y[o] = sum_i x[i] W[o, i] (+ b[o]); W [out, in] */
function linear(x: Float64Array, W: Float64Array, out: number, b?: Float64Array): Float64Array {
  const inF = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o]! : 0;
    for (let i = 0; i < inF; i++) s += x[i]! * W[o * inF + i]!;
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, g: Float64Array, eps: number, offset: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const r = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * r * (g[i]! + offset));
}

const silu = (v: number) => v / (1 + Math.exp(-v));
const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

/** HF rotate_half RoPE on one head vector, rotating the first 2 * invFreq.length dims. */
function rope(x: Float64Array, pos: number, invFreq: ArrayLike<number>): Float64Array {
  const half = invFreq.length;
  const y = Float64Array.from(x);
  for (let i = 0; i < half; i++) {
    const a = pos * invFreq[i]!;
    const c = Math.cos(a);
    const s = Math.sin(a);
    y[i] = x[i]! * c - x[i + half]! * s;
    y[i + half] = x[i + half]! * c + x[i]! * s;
  }
  return y;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]!);
}

export interface RefInputs {
  ids: number[][];
  positions?: number[][];
  segments?: number[][];
}

/** logits[b][t] (length vocab) for every position of every row. */
export function refForward(c: RefConfig, W: Weights, inp: RefInputs): Float64Array[][] {
  return inp.ids.map((row, b) => refRow(c, W, row, inp.positions?.[b] ?? row.map((_, t) => t), inp.segments?.[b] ?? null));
}

function refRow(c: RefConfig, W: Weights, ids: number[], pos: number[], seg: number[] | null): Float64Array[] {
  const T = ids.length;
  const D = c.headDim;
  const emb = w(W, "model.embed_tokens.weight");
  let xs: Float64Array[] = ids.map((id) => emb.slice(id * c.hidden, (id + 1) * c.hidden).map((v) => v * c.embedScale));
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}.`;
    const normed = xs.map((x) => rmsNorm(x, w(W, `${p}input_layernorm.weight`), c.eps, c.normOffset));
    const bias = (n: string) => (c.qkvBias ? w(W, `${p}self_attn.${n}.bias`) : undefined);
    const qs: Float64Array[][] = [];
    const ks: Float64Array[][] = [];
    const vs: Float64Array[][] = [];
    for (let t = 0; t < T; t++) {
      const q = linear(normed[t]!, w(W, `${p}self_attn.q_proj.weight`), c.heads * D, bias("q_proj"));
      const k = linear(normed[t]!, w(W, `${p}self_attn.k_proj.weight`), c.kvHeads * D, bias("k_proj"));
      const v = linear(normed[t]!, w(W, `${p}self_attn.v_proj.weight`), c.kvHeads * D, bias("v_proj"));
      const heads = (x: Float64Array, n: number): Float64Array[] => Array.from({ length: n }, (_, h) => x.slice(h * D, (h + 1) * D));
      let qh = heads(q, c.heads);
      let kh = heads(k, c.kvHeads);
      if (c.qkNorm) {
        qh = qh.map((x) => rmsNorm(x, w(W, `${p}self_attn.q_norm.weight`), c.eps, c.normOffset));
        kh = kh.map((x) => rmsNorm(x, w(W, `${p}self_attn.k_norm.weight`), c.eps, c.normOffset));
      }
      qs.push(qh.map((x) => rope(x, pos[t]!, c.invFreq)));
      ks.push(kh.map((x) => rope(x, pos[t]!, c.invFreq)));
      vs.push(heads(v, c.kvHeads));
    }
    const window = c.windows[l] ?? 0;
    const attnOut = xs.map((_, i) => {
      const o = new Float64Array(c.heads * D);
      for (let h = 0; h < c.heads; h++) {
        const kvh = Math.floor(h / (c.heads / c.kvHeads));
        const scores: number[] = [];
        const keys: number[] = [];
        for (let j = 0; j <= i; j++) {
          if (window > 0 && i - j >= window) continue;
          if (seg && seg[i] !== seg[j]) continue;
          let s = 0;
          for (let d = 0; d < D; d++) s += qs[i]![h]![d]! * ks[j]![kvh]![d]!;
          s *= c.attnScale;
          if (c.attnSoftcap > 0) s = c.attnSoftcap * Math.tanh(s / c.attnSoftcap);
          scores.push(s);
          keys.push(j);
        }
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b2) => a + b2, 0);
        keys.forEach((j, n) => {
          for (let d = 0; d < D; d++) o[h * D + d] = o[h * D + d]! + (e[n]! / z) * vs[j]![kvh]![d]!;
        });
      }
      return linear(o, w(W, `${p}self_attn.o_proj.weight`), c.hidden, c.oBias ? w(W, `${p}self_attn.o_proj.bias`) : undefined);
    });
    const mlp = (x: Float64Array) => {
      const g = linear(x, w(W, `${p}mlp.gate_proj.weight`), c.inter);
      const u = linear(x, w(W, `${p}mlp.up_proj.weight`), c.inter);
      const a = g.map((v, i) => (c.act === "silu" ? silu(v) : geluTanh(v)) * u[i]!);
      return linear(a, w(W, `${p}mlp.down_proj.weight`), c.hidden);
    };
    const norm = (x: Float64Array, n: string) => rmsNorm(x, w(W, `${p}${n}.weight`), c.eps, c.normOffset);
    xs = xs.map((x, t) => {
      if (c.sandwich) {
        const h = add(x, norm(attnOut[t]!, "post_attention_layernorm"));
        return add(h, norm(mlp(norm(h, "pre_feedforward_layernorm")), "post_feedforward_layernorm"));
      }
      const h = add(x, attnOut[t]!);
      return add(h, mlp(norm(h, "post_attention_layernorm")));
    });
  }
  const head = c.tied ? w(W, "model.embed_tokens.weight") : w(W, "lm_head.weight");
  return xs.map((x) => {
    const logits = linear(rmsNorm(x, w(W, "model.norm.weight"), c.eps, c.normOffset), head, c.vocab);
    return c.finalSoftcap > 0 ? logits.map((v) => c.finalSoftcap * Math.tanh(v / c.finalSoftcap)) : logits;
  });
}
