// A plain float64 Llama forward for tests: one token at a time with a KV cache, as llama2.c's run.c
// computes it. `rope: "interleaved"` rotates pairs (x[2i], x[2i+1]) like llama2.c; "halves" rotates
// (x[i], x[i+d/2]) like Hugging Face. Weights are HF-named Float32Arrays (or llama2.c's, mapped).

export interface RefLlamaConfig {
  dim: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  eps: number;
  theta: number;
  rope: "interleaved" | "halves";
}

export type RefWeights = (name: string) => ArrayLike<number>;

function rmsnorm(x: Float64Array, w: ArrayLike<number>, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * r * w[i]!);
}

/** out[i] = sum_j w[i, j] x[j] for w [rows, x.length] */
function matvec(w: ArrayLike<number>, x: Float64Array, rows: number): Float64Array {
  const out = new Float64Array(rows);
  const n = x.length;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += w[i * n + j]! * x[j]!;
    out[i] = s;
  }
  return out;
}

function rope(v: Float64Array, pos: number, hd: number, theta: number, layout: RefLlamaConfig["rope"]): void {
  for (let h = 0; h < v.length / hd; h++) {
    for (let i = 0; i < hd / 2; i++) {
      const freq = 1 / theta ** ((2 * i) / hd);
      const a = pos * freq;
      const [c, s] = [Math.cos(a), Math.sin(a)];
      const [p0, p1] = layout === "interleaved" ? [h * hd + 2 * i, h * hd + 2 * i + 1] : [h * hd + i, h * hd + i + hd / 2];
      const x0 = v[p0]!;
      const x1 = v[p1]!;
      v[p0] = x0 * c - x1 * s;
      v[p1] = x0 * s + x1 * c;
    }
  }
}

export class RefLlama {
  private readonly kCache: Float64Array[][] = [];
  private readonly vCache: Float64Array[][] = [];
  constructor(
    readonly c: RefLlamaConfig,
    readonly w: RefWeights,
  ) {
    for (let l = 0; l < c.layers; l++) {
      this.kCache.push([]);
      this.vCache.push([]);
    }
  }

  /** Logits for `token` at position `pos` (positions must be fed in order from 0). */
  step(token: number, pos: number): Float64Array {
    const { c, w } = this;
    const hd = c.dim / c.heads;
    const kvDim = hd * c.kvHeads;
    const emb = w("model.embed_tokens.weight");
    let x = Float64Array.from({ length: c.dim }, (_, i) => emb[token * c.dim + i]!);
    for (let l = 0; l < c.layers; l++) {
      const p = `model.layers.${l}`;
      const h = rmsnorm(x, w(`${p}.input_layernorm.weight`), c.eps);
      const q = matvec(w(`${p}.self_attn.q_proj.weight`), h, c.dim);
      const k = matvec(w(`${p}.self_attn.k_proj.weight`), h, kvDim);
      const v = matvec(w(`${p}.self_attn.v_proj.weight`), h, kvDim);
      rope(q, pos, hd, c.theta, c.rope);
      rope(k, pos, hd, c.theta, c.rope);
      this.kCache[l]!.push(k);
      this.vCache[l]!.push(v);
      const att = new Float64Array(c.dim);
      for (let hh = 0; hh < c.heads; hh++) {
        const kvh = Math.floor(hh / (c.heads / c.kvHeads));
        const scores = this.kCache[l]!.map((kk) => {
          let s = 0;
          for (let d = 0; d < hd; d++) s += q[hh * hd + d]! * kk[kvh * hd + d]!;
          return s / Math.sqrt(hd);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        this.vCache[l]!.forEach((vv, t) => {
          for (let d = 0; d < hd; d++) att[hh * hd + d]! += (e[t]! / z) * vv[kvh * hd + d]!;
        });
      }
      const o = matvec(w(`${p}.self_attn.o_proj.weight`), att, c.dim);
      x = x.map((xi, i) => xi + o[i]!);
      const h2 = rmsnorm(x, w(`${p}.post_attention_layernorm.weight`), c.eps);
      const g = matvec(w(`${p}.mlp.gate_proj.weight`), h2, c.hidden);
      const u = matvec(w(`${p}.mlp.up_proj.weight`), h2, c.hidden);
      const act = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]!);
      const down = matvec(w(`${p}.mlp.down_proj.weight`), act, c.dim);
      x = x.map((xi, i) => xi + down[i]!);
    }
    const out = rmsnorm(x, w("model.norm.weight"), c.eps);
    return matvec(w("lm_head.weight"), out, c.vocab);
  }
}

export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}
