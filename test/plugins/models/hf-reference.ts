// An independent float64 forward of each family as transformers' modeling_<family>.py computes it: it
// reads config.json keys (with the HF config classes' defaults) and HF weight names directly, nothing from
// core/nn's config reading or modules, and writes each family's differences out where they apply. Plain
// loops at test sizes: the family tests check lft's logits and gradients against it.
import type { HfConfig } from "../../../core/index.ts";
import { act, linear, rmsNorm, rope, softmax, type Weights, w } from "./ref/primitives.ts";

export type { Weights } from "./ref/primitives.ts";

export type RefFamily = "mistral" | "qwen2" | "qwen3" | "gemma" | "gemma2" | "phi3" | "mixtral" | "olmo2" | "granite";

/** What the forward needs, resolved from config.json the way each HF config class does. */
interface Resolved {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  act: "silu" | "gelu_pytorch_tanh";
  /** per layer: 0 = full causal, else query i sees keys j with i - window < j <= i */
  windows: number[];
  invFreq: number[];
  /** longrope's attention_factor: multiplies cos and sin */
  ropeFactor: number;
  scale: number;
  tied: boolean;
  bias: { qkv: boolean; o: boolean };
  /** Granite's multipliers (1 elsewhere): embeddings times `embed`, branch outputs times `residual`, logits / `logits` */
  mult: { embed: number; residual: number; logits: number };
}

const isGemma = (f: RefFamily) => f === "gemma" || f === "gemma2";

/** `key` as the HF config class sees it: absent -> the class default, null stays null. */
function key<T>(c: HfConfig, k: string, dflt: T): T | null {
  return c[k] === undefined ? dflt : (c[k] as T | null);
}

function resolve(f: RefFamily, c: HfConfig, seqLen: number): Resolved {
  const hidden = c.hidden_size as number;
  const heads = c.num_attention_heads as number;
  const layers = c.num_hidden_layers as number;
  const headDim = (c.head_dim as number | undefined) ?? (f === "qwen3" ? 128 : isGemma(f) ? 256 : hidden / heads);
  // Sliding windows: Mistral's class default is 4096 on every layer; Mixtral and Phi-3 default to none;
  // Qwen2/3 window layers >= max_window_layers when use_sliding_window; Gemma 2 windows even layers.
  let windows: number[];
  // layer_types, where a family's config class has it (Qwen2/3, Gemma 2), overrides the pattern.
  const types = c.layer_types as string[] | undefined;
  const byType = (w: number | null, sliding: (i: number) => boolean) =>
    Array.from({ length: layers }, (_, i) => ((types ? types[i] === "sliding_attention" : sliding(i)) && w ? w : 0));
  const every = (w: number | null) => new Array<number>(layers).fill(w ?? 0);
  if (f === "mistral") windows = every(key(c, "sliding_window", 4096));
  else if (f === "mixtral" || f === "phi3") windows = every(key(c, "sliding_window", null));
  else if (f === "qwen2" || f === "qwen3") {
    const w = c.use_sliding_window ? key(c, "sliding_window", 4096) : null;
    windows = byType(w, (i) => i >= ((c.max_window_layers as number | undefined) ?? 28));
  } else if (f === "gemma2") windows = byType(key(c, "sliding_window", 4096), (i) => i % 2 === 0);
  else windows = new Array<number>(layers).fill(0);

  // RoPE: inv_freq = 1 / theta^(2i/dim) over dim = head_dim * partial_rotary_factor; Phi-3's longrope
  // divides by short_factor (long_factor past original_max_position_embeddings) and scales cos/sin.
  const theta = (c.rope_theta as number | undefined) ?? 10000;
  const dim = Math.floor(headDim * ((c.partial_rotary_factor as number | undefined) ?? 1));
  let invFreq = Array.from({ length: dim / 2 }, (_, i) => 1 / theta ** ((2 * i) / dim));
  let ropeFactor = 1;
  const rs = c.rope_scaling as Record<string, unknown> | null | undefined;
  if (rs) {
    const type = (rs.rope_type ?? rs.type) as string;
    if (f !== "phi3" || !["longrope", "su", "yarn"].includes(type)) throw new Error(`reference: rope_scaling ${type} for ${f}`);
    const orig = (c.original_max_position_embeddings as number | undefined) ?? 4096;
    const factor = (c.max_position_embeddings as number) / orig;
    ropeFactor = (rs.attention_factor as number | undefined) ?? (factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(orig)));
    // dynamic_rope_update: long factors once max(position_ids) + 1 exceeds the original context.
    const ext = (seqLen > orig ? rs.long_factor : rs.short_factor) as number[];
    invFreq = invFreq.map((v, i) => v / ext[i]!);
  }
  const actKey = isGemma(f) ? (c.hidden_activation ?? "gelu_pytorch_tanh") : (c.hidden_act ?? "silu");
  const attnBias = (c.attention_bias as boolean | undefined) ?? false;
  return {
    vocab: c.vocab_size as number,
    hidden,
    layers,
    heads,
    kvHeads: (c.num_key_value_heads as number | undefined) ?? heads,
    headDim,
    eps: (c.rms_norm_eps as number | undefined) ?? 1e-6,
    act: actKey as Resolved["act"],
    windows,
    invFreq,
    ropeFactor,
    // Gemma 2 scales scores by query_pre_attn_scalar^-0.5, everyone else by head_dim^-0.5.
    // Granite: attention_multiplier (GraniteConfig default 1.0) replaces it.
    scale:
      f === "gemma2"
        ? ((c.query_pre_attn_scalar as number | undefined) ?? 256) ** -0.5
        : f === "granite"
          ? ((c.attention_multiplier as number | undefined) ?? 1)
          : headDim ** -0.5,
    tied: (c.tie_word_embeddings as boolean | undefined) ?? isGemma(f),
    // Qwen2: q/k/v always biased, o never; Qwen3, Gemma, OLMo 2 and Granite: attention_bias on all four; the rest: none.
    bias:
      f === "qwen2"
        ? { qkv: true, o: false }
        : f === "qwen3" || f === "olmo2" || isGemma(f) || f === "granite"
          ? { qkv: attnBias, o: attnBias }
          : { qkv: false, o: false },
    mult:
      f === "granite"
        ? {
            embed: (c.embedding_multiplier as number | undefined) ?? 1,
            residual: (c.residual_multiplier as number | undefined) ?? 1,
            logits: (c.logits_scaling as number | undefined) ?? 1,
          }
        : { embed: 1, residual: 1, logits: 1 },
  };
}

/** The layer's feed-forward on one normed token. */
function feedForward(f: RefFamily, c: HfConfig, r: Resolved, W: Weights, p: string, x: Float64Array): Float64Array {
  const gated = (gate: Float64Array, up: Float64Array) => gate.map((g, i) => act(r.act, g) * up[i]!);
  if (f === "phi3") {
    // gate_up_proj: the first half of the output is the gate, the second the up projection.
    const gu = linear(x, w(W, `${p}mlp.gate_up_proj.weight`));
    const n = gu.length / 2;
    return linear(gated(gu.slice(0, n), gu.slice(n)), w(W, `${p}mlp.down_proj.weight`));
  }
  if (f === "mixtral") {
    // MixtralSparseMoeBlock: softmax over all experts, top-k, renormalise the k weights, sum the experts.
    const probs = softmax([...linear(x, w(W, `${p}block_sparse_moe.gate.weight`))]);
    const top = probs
      .map((q, e) => [q, e] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, c.num_experts_per_tok as number);
    const z = top.reduce((s, [q]) => s + q, 0);
    const out = new Float64Array(r.hidden);
    for (const [q, e] of top) {
      const ep = `${p}block_sparse_moe.experts.${e}.`;
      const y = linear(gated(linear(x, w(W, `${ep}w1.weight`)), linear(x, w(W, `${ep}w3.weight`))), w(W, `${ep}w2.weight`));
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + (q / z) * y[i]!;
    }
    return out;
  }
  return linear(gated(linear(x, w(W, `${p}mlp.gate_proj.weight`)), linear(x, w(W, `${p}mlp.up_proj.weight`))), w(W, `${p}mlp.down_proj.weight`));
}

/** logits [row][t][vocab] of every position (positions 0..T-1). */
export function hfReference(f: RefFamily, config: HfConfig, W: Weights, rows: number[][]): Float64Array[][] {
  const r = resolve(f, config, Math.max(...rows.map((row) => row.length)));
  const gemma = isGemma(f);
  const D = r.headDim;
  const norm = (x: Float64Array, name: string) => rmsNorm(x, w(W, name), r.eps, gemma);
  return rows.map((ids) => {
    // Gemma multiplies the embeddings by sqrt(hidden) rounded to the activations' dtype (f32 here).
    const embScale = gemma ? Math.fround(Math.sqrt(r.hidden)) : r.mult.embed;
    const emb = w(W, "model.embed_tokens.weight");
    let xs = ids.map((id) => emb.slice(id * r.hidden, (id + 1) * r.hidden).map((v) => v * embScale));
    for (let l = 0; l < r.layers; l++) {
      const p = `model.layers.${l}.`;
      const a = `${p}self_attn.`;
      const qs: Float64Array[][] = [];
      const ks: Float64Array[][] = [];
      const vs: Float64Array[][] = [];
      xs.forEach((x, t) => {
        // OLMo 2 has no pre-norms: the projections see the residual stream itself.
        const h = f === "olmo2" ? x : norm(x, `${p}input_layernorm.weight`);
        let q: Float64Array;
        let k: Float64Array;
        let v: Float64Array;
        if (f === "phi3") {
          // qkv_proj rows: all query heads, then key heads, then value heads.
          const qkv = linear(h, w(W, `${a}qkv_proj.weight`));
          [q, k, v] = [qkv.slice(0, r.heads * D), qkv.slice(r.heads * D, (r.heads + r.kvHeads) * D), qkv.slice((r.heads + r.kvHeads) * D)];
        } else {
          const b = (n: string) => (r.bias.qkv ? w(W, `${a}${n}.bias`) : undefined);
          [q, k, v] = ["q_proj", "k_proj", "v_proj"].map((n) => linear(h, w(W, `${a}${n}.weight`), b(n))) as [Float64Array, Float64Array, Float64Array];
        }
        if (f === "olmo2") {
          // OLMo 2: one RMSNorm over all of q's (and of k's) projected dims, before the heads split.
          q = rmsNorm(q, w(W, `${a}q_norm.weight`), r.eps, false);
          k = rmsNorm(k, w(W, `${a}k_norm.weight`), r.eps, false);
        }
        const split = (y: Float64Array, n: number) => Array.from({ length: n }, (_, i) => y.slice(i * D, (i + 1) * D));
        let qh: Float64Array[] = split(q, r.heads);
        let kh: Float64Array[] = split(k, r.kvHeads);
        if (f === "qwen3") {
          // Qwen3: RMSNorm over each head's dims before RoPE.
          qh = qh.map((y) => rmsNorm(y, w(W, `${a}q_norm.weight`), r.eps, false));
          kh = kh.map((y) => rmsNorm(y, w(W, `${a}k_norm.weight`), r.eps, false));
        }
        qs.push(qh.map((y) => rope(y, t, r.invFreq, r.ropeFactor)));
        ks.push(kh.map((y) => rope(y, t, r.invFreq, r.ropeFactor)));
        vs.push(split(v, r.kvHeads));
      });
      const window = r.windows[l]!;
      const softcap = f === "gemma2" ? key(config, "attn_logit_softcapping", 50) : null;
      const attn = xs.map((_, i) => {
        const o = new Float64Array(r.heads * D);
        for (let hh = 0; hh < r.heads; hh++) {
          const kv = Math.floor(hh / (r.heads / r.kvHeads));
          const keys: number[] = [];
          const scores: number[] = [];
          for (let j = 0; j <= i; j++) {
            if (window && !(j > i - window)) continue;
            let s = 0;
            for (let d = 0; d < D; d++) s += qs[i]![hh]![d]! * ks[j]![kv]![d]!;
            s *= r.scale;
            if (softcap) s = softcap * Math.tanh(s / softcap);
            keys.push(j);
            scores.push(s);
          }
          softmax(scores).forEach((pr, n) => {
            for (let d = 0; d < D; d++) o[hh * D + d] = o[hh * D + d]! + pr * vs[keys[n]!]![kv]![d]!;
          });
        }
        return linear(o, w(W, `${a}o_proj.weight`), r.bias.o ? w(W, `${a}o_proj.bias`) : undefined);
      });
      xs = xs.map((x, t) => {
        if (f === "gemma2") {
          // Gemma 2: post-norms on the attention and MLP outputs, and a pre-norm of its own before the MLP.
          const h = x.map((v, i) => v + norm(attn[t]!, `${p}post_attention_layernorm.weight`)[i]!);
          const m = norm(feedForward(f, config, r, W, p, norm(h, `${p}pre_feedforward_layernorm.weight`)), `${p}post_feedforward_layernorm.weight`);
          return h.map((v, i) => v + m[i]!);
        }
        if (f === "olmo2") {
          // OLMo 2: post-norms only, on the attention and MLP outputs before each residual add.
          const h = x.map((v, i) => v + norm(attn[t]!, `${p}post_attention_layernorm.weight`)[i]!);
          const m = norm(feedForward(f, config, r, W, p, h), `${p}post_feedforward_layernorm.weight`);
          return h.map((v, i) => v + m[i]!);
        }
        // Granite: residual + branch * residual_multiplier (1 elsewhere).
        const h = x.map((v, i) => v + attn[t]![i]! * r.mult.residual);
        const m = feedForward(f, config, r, W, p, norm(h, `${p}post_attention_layernorm.weight`));
        return h.map((v, i) => v + m[i]! * r.mult.residual);
      });
    }
    const head = r.tied ? w(W, "model.embed_tokens.weight") : w(W, "lm_head.weight");
    const finalCap = f === "gemma2" ? key(config, "final_logit_softcapping", 30) : null;
    return xs.map((x) => {
      const logits = linear(norm(x, "model.norm.weight"), head).map((v) => v / r.mult.logits);
      return finalCap ? logits.map((v) => finalCap * Math.tanh(v / finalCap)) : logits;
    });
  });
}

/** Mean next-token cross-entropy of reference logits (the loss the gradient checks difference). */
export function refLoss(logits: Float64Array[][], rows: number[][]): number {
  let sum = 0;
  let n = 0;
  rows.forEach((row, b) => {
    for (let t = 0; t + 1 < row.length; t++) {
      const l = logits[b]![t]!;
      const m = l.reduce((a, v) => Math.max(a, v), -Infinity);
      sum += m + Math.log(l.reduce((s, v) => s + Math.exp(v - m), 0)) - l[row[t + 1]!]!;
      n++;
    }
  });
  return sum / n;
}
