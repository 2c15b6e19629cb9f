// An independent float64 forward of DeepSeek-V2 / V3 (transformers' modeling_deepseek_v2.py /
// modeling_deepseek_v3.py and DeepSeek's own modeling files), one token at a time with plain loops:
// multi-head latent attention with the decoupled, interleaved RoPE key, YaRN frequencies and the mscale^2
// softmax scale, and DeepSeekMoE routing (softmax greedy / group max for V2, sigmoid + correction bias and
// top-2 group sums for V3) with shared experts. Reads config.json keys and HF weight names directly.
import type { HfConfig } from "../../../../core/index.ts";
import { act, linear, rmsNorm, rope, softmax, type Weights, w } from "./primitives.ts";

type Cfg = Record<string, unknown>;
const num = (c: Cfg, k: string, d: number): number => (typeof c[k] === "number" ? (c[k] as number) : d);

/** yarn_get_mscale */
const mscaleOf = (scale: number, m: number) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);

/** transformers' _compute_yarn_parameters for the rope dims, or plain frequencies; and the cos/sin factor. */
function ropeFrequencies(c: Cfg): { inv: number[]; factor: number } {
  const dim = num(c, "qk_rope_head_dim", 64);
  const rs = (c.rope_parameters ?? c.rope_scaling) as Cfg | null | undefined;
  // transformers 5 keeps rope_theta inside rope_parameters
  const base = num(c.rope_parameters ? (c.rope_parameters as Cfg) : c, "rope_theta", 10000);
  const plain = Array.from({ length: dim / 2 }, (_, i) => base ** ((-2 * i) / dim));
  const type = rs ? (rs.rope_type ?? rs.type ?? "default") : "default";
  if (!rs || type === "default") return { inv: plain, factor: 1 };
  if (type !== "yarn") throw new Error(`reference: rope type ${String(type)} not modelled`);
  const maxPos = num(c, "max_position_embeddings", 2048);
  const orig = num(rs, "original_max_position_embeddings", maxPos);
  const f = num(rs, "factor", maxPos / orig);
  const m = num(rs, "mscale", 0);
  const mAll = num(rs, "mscale_all_dim", 0);
  const factor = typeof rs.attention_factor === "number" ? rs.attention_factor : m && mAll ? mscaleOf(f, m) / mscaleOf(f, mAll) : mscaleOf(f, 1);
  const fast = (rs.beta_fast as number) || 32;
  const slow = (rs.beta_slow as number) || 1;
  const corr = (rot: number) => (dim * Math.log(orig / (rot * 2 * Math.PI))) / (2 * Math.log(base));
  let lo = corr(fast);
  let hi = corr(slow);
  if (rs.truncate !== false) [lo, hi] = [Math.floor(lo), Math.ceil(hi)];
  lo = Math.max(lo, 0);
  hi = Math.min(hi, dim - 1);
  if (lo === hi) hi += 0.001;
  const inv = plain.map((p, i) => {
    const ramp = Math.min(1, Math.max(0, (i - lo) / (hi - lo)));
    const extrapolate = 1 - ramp;
    return (p / f) * (1 - extrapolate) + p * extrapolate;
  });
  return { inv, factor };
}

/** Interleaved RoPE: the complex pairs (x[2i], x[2i+1]) times e^(i pos inv[i]), times factor. */
function ropeInterleaved(x: Float64Array, pos: number, inv: number[], factor: number): Float64Array {
  const y = new Float64Array(x.length);
  inv.forEach((f, i) => {
    const c = Math.cos(pos * f) * factor;
    const s = Math.sin(pos * f) * factor;
    y[2 * i] = x[2 * i]! * c - x[2 * i + 1]! * s;
    y[2 * i + 1] = x[2 * i + 1]! * c + x[2 * i]! * s;
  });
  return y;
}

function mlp(W: Weights, p: string, x: Float64Array): Float64Array {
  const g = linear(x, w(W, `${p}.gate_proj.weight`));
  const u = linear(x, w(W, `${p}.up_proj.weight`));
  return linear(
    g.map((v, i) => act("silu", v) * u[i]!),
    w(W, `${p}.down_proj.weight`),
  );
}

/** Indices of the k largest values (ties to the lower index). */
function topk(xs: number[], k: number): number[] {
  return xs
    .map((_, i) => i)
    .sort((a, b) => xs[b]! - xs[a]! || a - b)
    .slice(0, k);
}

function moe(c: Cfg, W: Weights, p: string, x: Float64Array, v3: boolean): Float64Array {
  const E = num(c, "n_routed_experts", 0);
  const k = num(c, "num_experts_per_tok", 1);
  const logits = [...linear(x, w(W, `${p}.gate.weight`))];
  const scores = v3 ? logits.map((l) => 1 / (1 + Math.exp(-l))) : softmax(logits);
  let choice = v3 ? scores.map((s, e) => s + w(W, `${p}.gate.e_score_correction_bias`)[e]!) : [...scores];
  const grouped = v3 || c.topk_method === "group_limited_greedy";
  const G = grouped ? num(c, "n_group", 1) : 1;
  if (G > 1) {
    const per = E / G;
    const groupScore = Array.from({ length: G }, (_, g) => {
      const s = choice.slice(g * per, (g + 1) * per).sort((a, b) => b - a);
      return v3 ? s[0]! + s[1]! : s[0]!;
    });
    const keep = topk(groupScore, num(c, "topk_group", 1));
    choice = choice.map((v, e) => (keep.includes(Math.floor(e / per)) ? v : 0));
  }
  const chosen = topk(choice, k);
  let weights = chosen.map((e) => scores[e]!);
  if (c.norm_topk_prob === true && (k > 1 || v3)) {
    const z = weights.reduce((a, b) => a + b, 0) + 1e-20;
    weights = weights.map((v) => v / z);
  }
  const scale = num(c, "routed_scaling_factor", 1);
  const out = new Float64Array(x.length);
  chosen.forEach((e, j) => {
    const y = mlp(W, `${p}.experts.${e}`, x);
    for (let i = 0; i < out.length; i++) out[i]! += weights[j]! * scale * y[i]!;
  });
  if (W.has(`${p}.shared_experts.gate_proj.weight`)) {
    const s = mlp(W, `${p}.shared_experts`, x);
    for (let i = 0; i < out.length; i++) out[i]! += s[i]!;
  }
  return out;
}

/** logits [row][t][vocab] for DeepSeek-V2 (model_type deepseek_v2) or V3. */
export function deepseekReference(config: HfConfig, W: Weights, rows: number[][]): Float64Array[][] {
  const c = config as Cfg;
  const v3 = c.model_type === "deepseek_v3";
  const L = num(c, "num_hidden_layers", 1);
  const H = num(c, "num_attention_heads", 1);
  const hidden = num(c, "hidden_size", 1);
  const dn = num(c, "qk_nope_head_dim", 128);
  const dr = num(c, "qk_rope_head_dim", 64);
  const dv = num(c, "v_head_dim", 128);
  const r = num(c, "kv_lora_rank", 512);
  const eps = num(c, "rms_norm_eps", 1e-6);
  const bias = c.attention_bias === true;
  const interleave = v3 ? c.rope_interleave !== false : true;
  const { inv, factor } = ropeFrequencies(c);
  const rs = (c.rope_parameters ?? c.rope_scaling) as Cfg | null | undefined;
  const mAll = rs ? num(rs, "mscale_all_dim", 0) : 0;
  const ms = mAll ? mscaleOf(num(rs!, "factor", 1), mAll) : 1;
  const scale = (dn + dr) ** -0.5 * ms * ms;
  const E = typeof c.n_routed_experts === "number" ? c.n_routed_experts : 0;
  const firstDense = num(c, "first_k_dense_replace", 0);
  const freq = num(c, "moe_layer_freq", 1);
  const b = (name: string) => (bias ? w(W, name) : undefined);
  const rot = (x: Float64Array, pos: number) => (interleave ? ropeInterleaved(x, pos, inv, factor) : rope(x, pos, inv, factor));

  return rows.map((ids) => {
    let hs = ids.map((id) => w(W, "model.embed_tokens.weight").slice(id * hidden, (id + 1) * hidden));
    for (let l = 0; l < L; l++) {
      const p = `model.layers.${l}`;
      const a = `${p}.self_attn`;
      const xs = hs.map((h) => rmsNorm(h, w(W, `${p}.input_layernorm.weight`), eps, false));
      // Per position: each head's q (nope, rope) and k (nope, shared rope) and v.
      const qs = xs.map((x, t) => {
        const q = W.has(`${a}.q_proj.weight`)
          ? linear(x, w(W, `${a}.q_proj.weight`))
          : linear(
              rmsNorm(linear(x, w(W, `${a}.q_a_proj.weight`), b(`${a}.q_a_proj.bias`)), w(W, `${a}.q_a_layernorm.weight`), 1e-6, false),
              w(W, `${a}.q_b_proj.weight`),
            );
        return Array.from({ length: H }, (_, h) => {
          const head = q.slice(h * (dn + dr), (h + 1) * (dn + dr));
          return { nope: head.slice(0, dn), rope: rot(head.slice(dn), t) };
        });
      });
      const kvs = xs.map((x, t) => {
        const ckv = linear(x, w(W, `${a}.kv_a_proj_with_mqa.weight`), b(`${a}.kv_a_proj_with_mqa.bias`));
        const kv = linear(rmsNorm(ckv.slice(0, r), w(W, `${a}.kv_a_layernorm.weight`), 1e-6, false), w(W, `${a}.kv_b_proj.weight`));
        const kRope = rot(ckv.slice(r, r + dr), t);
        return Array.from({ length: H }, (_, h) => ({
          nope: kv.slice(h * (dn + dv), h * (dn + dv) + dn),
          v: kv.slice(h * (dn + dv) + dn, (h + 1) * (dn + dv)),
          rope: kRope,
        }));
      });
      const dot = (x: Float64Array, y: Float64Array) => x.reduce((s, v, i) => s + v * y[i]!, 0);
      hs = hs.map((h, t) => {
        const o = new Float64Array(H * dv);
        for (let hd = 0; hd < H; hd++) {
          const q = qs[t]![hd]!;
          const s = Array.from({ length: t + 1 }, (_, u) => scale * (dot(q.nope, kvs[u]![hd]!.nope) + dot(q.rope, kvs[u]![hd]!.rope)));
          softmax(s).forEach((pr, u) => {
            for (let i = 0; i < dv; i++) o[hd * dv + i]! += pr * kvs[u]![hd]!.v[i]!;
          });
        }
        const attn = linear(o, w(W, `${a}.o_proj.weight`), b(`${a}.o_proj.bias`));
        const h1 = h.map((v, i) => v + attn[i]!);
        const x2 = rmsNorm(h1, w(W, `${p}.post_attention_layernorm.weight`), eps, false);
        const isMoe = E > 0 && l >= firstDense && l % freq === 0;
        const m = isMoe ? moe(c, W, `${p}.mlp`, x2, v3) : mlp(W, `${p}.mlp`, x2);
        return h1.map((v, i) => v + m[i]!);
      });
    }
    const head = W.get("lm_head.weight") ?? w(W, "model.embed_tokens.weight");
    return hs.map((h) => linear(rmsNorm(h, w(W, "model.norm.weight"), eps, false), head));
  });
}
