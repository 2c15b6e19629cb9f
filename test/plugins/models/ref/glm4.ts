// An independent float64 forward of GLM-4-0414 (transformers' modeling_glm4.py): pre-norm residual blocks
// whose attention and MLP outputs are RMS-normed again before the add (post_self_attn_layernorm,
// post_mlp_layernorm), q/k/v biases, RoPE over the first head_dim * partial_rotary_factor dims on
// interleaved pairs, and a fused gate_up_proj. Config keys are read with Glm4Config's defaults.
// model_type glm (modular_glm.py, GLM-4-9B): the same without the two post-norms.
import type { HfConfig } from "../../../../core/index.ts";
import type { RefForward } from "../family-checks.ts";
import { attend, embed, heads, invFreqOf, ropeInterleaved } from "./dense-blocks.ts";
import { act, linear, rmsNorm, w } from "./primitives.ts";

const get = <T>(c: HfConfig, k: string, dflt: T): T => (c[k] === undefined || c[k] === null ? dflt : (c[k] as T));

export const glm4Reference: RefForward = (c, W, rows) => {
  const hidden = c.hidden_size as number;
  const nh = c.num_attention_heads as number;
  const nkv = get(c, "num_key_value_heads", 2);
  const D = get(c, "head_dim", 128);
  const eps = get(c, "rms_norm_eps", 1.5625e-7);
  const bias = get(c, "attention_bias", true);
  const actKind = get<"silu" | "gelu_pytorch_tanh">(c, "hidden_act", "silu");
  const invFreq = invFreqOf(get(c, "rope_theta", 10000), Math.floor(D * get(c, "partial_rotary_factor", 0.5)));
  const sandwich = c.model_type !== "glm";
  const norm = (x: Float64Array, name: string) => rmsNorm(x, w(W, name), eps, false);
  const post = (x: Float64Array, name: string) => (sandwich ? norm(x, name) : x);
  return rows.map((ids) => {
    let xs = embed(W, ids, hidden);
    for (let l = 0; l < (c.num_hidden_layers as number); l++) {
      const p = `model.layers.${l}.`;
      const proj = (x: Float64Array, n: string) => linear(x, w(W, `${p}self_attn.${n}.weight`), bias ? w(W, `${p}self_attn.${n}.bias`) : undefined);
      const normed = xs.map((x) => norm(x, `${p}input_layernorm.weight`));
      const qs = normed.map((x, t) => heads(proj(x, "q_proj"), nh).map((h) => ropeInterleaved(h, t, invFreq)));
      const ks = normed.map((x, t) => heads(proj(x, "k_proj"), nkv).map((h) => ropeInterleaved(h, t, invFreq)));
      const vs = normed.map((x) => heads(proj(x, "v_proj"), nkv));
      const attn = attend(qs, ks, vs, D ** -0.5).map((o) => linear(o, w(W, `${p}self_attn.o_proj.weight`)));
      xs = xs.map((x, t) => {
        const a = post(attn[t]!, `${p}post_self_attn_layernorm.weight`);
        const h = x.map((v, i) => v + a[i]!);
        const gu = linear(norm(h, `${p}post_attention_layernorm.weight`), w(W, `${p}mlp.gate_up_proj.weight`));
        const n = gu.length / 2;
        const m = linear(
          gu.slice(n).map((u, i) => u * act(actKind, gu[i]!)),
          w(W, `${p}mlp.down_proj.weight`),
        );
        const mo = post(m, `${p}post_mlp_layernorm.weight`);
        return h.map((v, i) => v + mo[i]!);
      });
    }
    const head = get(c, "tie_word_embeddings", false) ? w(W, "model.embed_tokens.weight") : w(W, "lm_head.weight");
    return xs.map((x) => linear(norm(x, "model.norm.weight"), head));
  });
};
