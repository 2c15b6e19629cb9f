// An independent float64 forward of Cohere's Command-R family (transformers' modeling_cohere.py):
// CohereLayerNorm (mean-centred, weight only) before a parallel attention + MLP block
// (x + attn(h) + mlp(h)), optional per-head q/k LayerNorms with one weight row per head, RoPE on
// interleaved pairs over the whole head, logits times logit_scale. Config keys with CohereConfig's defaults.
// model_type cohere2 (modular_cohere2.py): head_dim = hidden / heads, no q/k norms, and layer_types
// (default: every sliding_window_pattern-th layer full) choose per layer between a sliding window with
// RoPE and full attention with no position encoding.
import type { HfConfig } from "../../../../core/index.ts";
import type { RefForward } from "../family-checks.ts";
import { attend, embed, heads, invFreqOf, layerNorm, ropeInterleaved } from "./dense-blocks.ts";
import { act, linear, w } from "./primitives.ts";

const get = <T>(c: HfConfig, k: string, dflt: T): T => (c[k] === undefined || c[k] === null ? dflt : (c[k] as T));

export const cohereReference: RefForward = (c, W, rows) => {
  const hidden = c.hidden_size as number;
  const nh = c.num_attention_heads as number;
  const nkv = get(c, "num_key_value_heads", nh);
  const v2 = c.model_type === "cohere2";
  const D = v2 ? Math.floor(hidden / nh) : get(c, "head_dim", hidden / nh);
  const pattern = get(c, "sliding_window_pattern", 4);
  const types = get<string[]>(
    c,
    "layer_types",
    Array.from({ length: c.num_hidden_layers as number }, (_, i) => ((i + 1) % pattern ? "sliding_attention" : "full_attention")),
  );
  const window = c.sliding_window === null ? null : get(c, "sliding_window", 4096);
  const eps = get(c, "layer_norm_eps", 1e-5);
  const bias = get(c, "attention_bias", false);
  const qkNorm = !v2 && get(c, "use_qk_norm", false);
  const actKind = get<"silu" | "gelu_pytorch_tanh">(c, "hidden_act", "silu");
  const invFreq = invFreqOf(get(c, "rope_theta", 500000), D);
  const ln = (x: Float64Array, g: Float64Array) => layerNorm(x, g, undefined, eps);
  return rows.map((ids) => {
    let xs = embed(W, ids, hidden);
    for (let l = 0; l < (c.num_hidden_layers as number); l++) {
      const p = `model.layers.${l}.`;
      const a = `${p}self_attn.`;
      const proj = (x: Float64Array, n: string) => linear(x, w(W, `${a}${n}.weight`), bias ? w(W, `${a}${n}.bias`) : undefined);
      // q_norm.weight is [heads, head_dim]: head i normalises with row i.
      const headNorm = (hs: Float64Array[], name: string) => (qkNorm ? hs.map((y, i) => ln(y, w(W, `${a}${name}.weight`).slice(i * D, (i + 1) * D))) : hs);
      // cohere2: Cohere2Attention.sliding_window is the window on sliding layers, else None (no RoPE, full).
      const layerWindow = v2 ? (types[l] === "sliding_attention" ? window : null) : 0;
      const rot = (y: Float64Array, t: number) => (v2 && layerWindow === null ? y : ropeInterleaved(y, t, invFreq));
      const normed = xs.map((x) => ln(x, w(W, `${p}input_layernorm.weight`)));
      const qs = normed.map((x, t) => headNorm(heads(proj(x, "q_proj"), nh), "q_norm").map((y) => rot(y, t)));
      const ks = normed.map((x, t) => headNorm(heads(proj(x, "k_proj"), nkv), "k_norm").map((y) => rot(y, t)));
      const vs = normed.map((x) => heads(proj(x, "v_proj"), nkv));
      const attn = attend(qs, ks, vs, D ** -0.5, layerWindow ?? 0).map((o) => proj(o, "o_proj"));
      xs = xs.map((x, t) => {
        const h = normed[t]!;
        const gate = linear(h, w(W, `${p}mlp.gate_proj.weight`));
        const up = linear(h, w(W, `${p}mlp.up_proj.weight`));
        const m = linear(
          gate.map((g, i) => act(actKind, g) * up[i]!),
          w(W, `${p}mlp.down_proj.weight`),
        );
        return x.map((v, i) => v + attn[t]![i]! + m[i]!);
      });
    }
    const head = get(c, "tie_word_embeddings", true) ? w(W, "model.embed_tokens.weight") : w(W, "lm_head.weight");
    const scale = get(c, "logit_scale", 0.0625);
    return xs.map((x) => linear(ln(x, w(W, "model.norm.weight")), head).map((v) => v * scale));
  });
};
