// An independent float64 forward of gpt-oss (transformers' modeling_gpt_oss.py and OpenAI's reference
// model), read straight from config.json keys and HF weight names: pre-norm layers; attention with biased
// q/k/v/o, YaRN RoPE (the published ramp over pair index, cos/sin times the concentration), a sliding
// window on the layers layer_types marks, and a sink logit per head that joins the softmax with no
// value; a top-k MoE whose fused experts (x · W, gate/up interleaved) apply the clamped SwiGLU.
import type { HfConfig } from "../../../../core/index.ts";
import { linear, rmsNorm, rope, softmax, type Weights, w } from "./primitives.ts";

interface GptOssRef {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  experts: number;
  topK: number;
  inter: number;
  limit: number;
  alpha: number;
  windows: number[];
  invFreq: number[];
  concentration: number;
  tied: boolean;
}

/** gpt-oss's YaRN: interpolate (/ factor) past the ramp, extrapolate before it; concentration 0.1 ln(factor) + 1. */
function yarn(base: number, dim: number, rs: HfConfig | null): { invFreq: number[]; concentration: number } {
  const half = dim / 2;
  const plain = Array.from({ length: half }, (_, i) => 1 / base ** (i / half));
  if (!rs) return { invFreq: plain, concentration: 1 };
  if ((rs.rope_type ?? rs.type) !== "yarn") throw new Error(`reference: rope type ${String(rs.rope_type)} for gpt_oss`);
  const factor = rs.factor as number;
  const ctx = rs.original_max_position_embeddings as number;
  const fast = (rs.beta_fast as number) ?? 32;
  const slow = (rs.beta_slow as number) ?? 1;
  let low = (half * Math.log(ctx / (fast * 2 * Math.PI))) / Math.log(base);
  let high = (half * Math.log(ctx / (slow * 2 * Math.PI))) / Math.log(base);
  if (rs.truncate !== false) [low, high] = [Math.floor(low), Math.ceil(high)];
  if (low === high) high += 0.001;
  const invFreq = plain.map((f, i) => {
    const keep = 1 - Math.min(1, Math.max(0, (i - low) / (high - low)));
    return (f / factor) * (1 - keep) + f * keep;
  });
  return { invFreq, concentration: 0.1 * Math.log(factor) + 1 };
}

function readConfig(c: HfConfig): GptOssRef {
  const layers = c.num_hidden_layers as number;
  const heads = c.num_attention_heads as number;
  const headDim = (c.head_dim as number) ?? (c.hidden_size as number) / heads;
  const types = (c.layer_types as string[] | undefined) ?? Array.from({ length: layers }, (_, i) => (i % 2 === 0 ? "sliding_attention" : "full_attention"));
  const window = c.sliding_window === null ? 0 : ((c.sliding_window as number | undefined) ?? 128);
  const rs = (c.rope_scaling as HfConfig | null | undefined) ?? null;
  const { invFreq, concentration } = yarn((c.rope_theta as number) ?? 150000, headDim, rs);
  return {
    hidden: c.hidden_size as number,
    layers,
    heads,
    kvHeads: (c.num_key_value_heads as number) ?? heads,
    headDim,
    eps: (c.rms_norm_eps as number) ?? 1e-5,
    experts: c.num_local_experts as number,
    topK: (c.num_experts_per_tok as number) ?? (c.experts_per_token as number),
    inter: c.intermediate_size as number,
    limit: (c.swiglu_limit as number) ?? 7,
    alpha: (c.swiglu_alpha as number) ?? 1.702,
    windows: types.map((t) => (t === "sliding_attention" ? window : 0)),
    invFreq,
    concentration,
    tied: c.tie_word_embeddings === true,
  };
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** The MoE block on one token's normed hidden state. */
function moe(cfg: GptOssRef, W: Weights, p: string, x: Float64Array): Float64Array {
  const { hidden: H, inter: I, experts: E, topK: k, limit, alpha } = cfg;
  const logits = linear(x, w(W, `${p}.router.weight`), w(W, `${p}.router.bias`));
  const order = Array.from({ length: E }, (_, e) => e).sort((a, b) => logits[b]! - logits[a]! || a - b);
  const chosen = order.slice(0, k);
  const weights = softmax(chosen.map((e) => logits[e]!));
  const gu = w(W, `${p}.experts.gate_up_proj`);
  const guB = w(W, `${p}.experts.gate_up_proj_bias`);
  const dn = w(W, `${p}.experts.down_proj`);
  const dnB = w(W, `${p}.experts.down_proj_bias`);
  const out = new Float64Array(H);
  chosen.forEach((e, slot) => {
    const act = new Float64Array(I);
    for (let i = 0; i < I; i++) {
      // x · W: column c of expert e's [H, 2I] matrix; gate is column 2i, up column 2i + 1.
      let g = guB[e * 2 * I + 2 * i]!;
      let u = guB[e * 2 * I + 2 * i + 1]!;
      for (let h = 0; h < H; h++) {
        g += x[h]! * gu[(e * H + h) * 2 * I + 2 * i]!;
        u += x[h]! * gu[(e * H + h) * 2 * I + 2 * i + 1]!;
      }
      g = Math.min(g, limit);
      u = Math.min(Math.max(u, -limit), limit);
      act[i] = (u + 1) * g * sigmoid(alpha * g);
    }
    for (let h = 0; h < H; h++) {
      let y = dnB[e * H + h]!;
      for (let i = 0; i < I; i++) y += act[i]! * dn[(e * I + i) * H + h]!;
      out[h] = out[h]! + weights[slot]! * y;
    }
  });
  return out;
}

/** One sequence through the model: logits [t][vocab]. */
function forwardRow(cfg: GptOssRef, W: Weights, ids: number[]): Float64Array[] {
  const { hidden: H, heads: Hq, kvHeads: Hkv, headDim: D } = cfg;
  const emb = w(W, "model.embed_tokens.weight");
  let xs = ids.map((id) => emb.slice(id * H, (id + 1) * H));
  const T = ids.length;
  for (let l = 0; l < cfg.layers; l++) {
    const p = `model.layers.${l}`;
    const a = `${p}.self_attn`;
    const normed = xs.map((x) => rmsNorm(x, w(W, `${p}.input_layernorm.weight`), cfg.eps, false));
    const heads = (v: Float64Array, n: number, t: number, rot: boolean) =>
      Array.from({ length: n }, (_, h) => {
        const x = v.slice(h * D, (h + 1) * D);
        return rot ? rope(x, t, cfg.invFreq, cfg.concentration) : x;
      });
    const q = normed.map((x, t) => heads(linear(x, w(W, `${a}.q_proj.weight`), w(W, `${a}.q_proj.bias`)), Hq, t, true));
    const k = normed.map((x, t) => heads(linear(x, w(W, `${a}.k_proj.weight`), w(W, `${a}.k_proj.bias`)), Hkv, t, true));
    const v = normed.map((x, t) => heads(linear(x, w(W, `${a}.v_proj.weight`), w(W, `${a}.v_proj.bias`)), Hkv, t, false));
    const sinks = w(W, `${a}.sinks`);
    const window = cfg.windows[l]!;
    xs = xs.map((x, t) => {
      const cat = new Float64Array(Hq * D);
      for (let h = 0; h < Hq; h++) {
        const hk = Math.floor(h / (Hq / Hkv));
        const visible = Array.from({ length: t + 1 }, (_, j) => j).filter((j) => window === 0 || t - j < window);
        const scores = visible.map((j) => {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[t]![h]![d]! * k[j]![hk]![d]!;
          return s / Math.sqrt(D);
        });
        // The sink is one more logit in the softmax; its probability is dropped (no value).
        const probs = softmax([...scores, sinks[h]!]);
        visible.forEach((j, n) => {
          for (let d = 0; d < D; d++) cat[h * D + d] = cat[h * D + d]! + probs[n]! * v[j]![hk]![d]!;
        });
      }
      const o = linear(cat, w(W, `${a}.o_proj.weight`), w(W, `${a}.o_proj.bias`));
      return x.map((val, i) => val + o[i]!);
    });
    xs = xs.map((x) => {
      const m = moe(cfg, W, `${p}.mlp`, rmsNorm(x, w(W, `${p}.post_attention_layernorm.weight`), cfg.eps, false));
      return x.map((val, i) => val + m[i]!);
    });
  }
  const head = w(W, cfg.tied ? "model.embed_tokens.weight" : "lm_head.weight");
  return xs.slice(0, T).map((x) => linear(rmsNorm(x, w(W, "model.norm.weight"), cfg.eps, false), head));
}

/** RefForward for gpt_oss: logits [row][t][vocab]. */
export function gptOssReference(config: HfConfig, W: Weights, rows: number[][]): Float64Array[][] {
  const cfg = readConfig(config);
  return rows.map((ids) => forwardRow(cfg, W, ids));
}
