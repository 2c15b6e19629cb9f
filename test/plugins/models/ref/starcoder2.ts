// An independent float64 forward of StarCoder 2 (transformers' modeling_starcoder2.py): pre-norm blocks
// with nn.LayerNorm (weight and bias, norm_epsilon), grouped-query attention with rotate_half RoPE and a
// sliding window on every layer, biases on q/k/v/o and on the MLP's c_fc/c_proj (use_bias), an ungated
// c_proj(act(c_fc(x))) MLP, and tied embeddings by default. Config keys with Starcoder2Config's defaults.
import type { HfConfig } from "../../../../core/index.ts";
import type { RefForward } from "../family-checks.ts";
import { attend, embed, heads, invFreqOf, layerNorm } from "./dense-blocks.ts";
import { act, linear, rope, w } from "./primitives.ts";

const get = <T>(c: HfConfig, k: string, dflt: T): T => (c[k] === undefined || c[k] === null ? dflt : (c[k] as T));

export const starcoder2Reference: RefForward = (c, W, rows) => {
  const hidden = c.hidden_size as number;
  const nh = c.num_attention_heads as number;
  const nkv = get(c, "num_key_value_heads", 2);
  const D = get(c, "head_dim", hidden / nh);
  const eps = get(c, "norm_epsilon", 1e-5);
  const bias = get(c, "use_bias", true);
  const window = get(c, "sliding_window", 0);
  const actKind = get<"silu" | "gelu_pytorch_tanh">(c, "hidden_act", "gelu_pytorch_tanh");
  const invFreq = invFreqOf(get(c, "rope_theta", 10000), D);
  const lin = (x: Float64Array, name: string) => linear(x, w(W, `${name}.weight`), bias ? w(W, `${name}.bias`) : undefined);
  const ln = (x: Float64Array, name: string) => layerNorm(x, w(W, `${name}.weight`), w(W, `${name}.bias`), eps);
  return rows.map((ids) => {
    let xs = embed(W, ids, hidden);
    for (let l = 0; l < (c.num_hidden_layers as number); l++) {
      const p = `model.layers.${l}.`;
      const normed = xs.map((x) => ln(x, `${p}input_layernorm`));
      const qs = normed.map((x, t) => heads(lin(x, `${p}self_attn.q_proj`), nh).map((y) => rope(y, t, invFreq, 1)));
      const ks = normed.map((x, t) => heads(lin(x, `${p}self_attn.k_proj`), nkv).map((y) => rope(y, t, invFreq, 1)));
      const vs = normed.map((x) => heads(lin(x, `${p}self_attn.v_proj`), nkv));
      const attn = attend(qs, ks, vs, D ** -0.5, window).map((o) => lin(o, `${p}self_attn.o_proj`));
      xs = xs.map((x, t) => {
        const h = x.map((v, i) => v + attn[t]![i]!);
        const m = lin(
          lin(ln(h, `${p}post_attention_layernorm`), `${p}mlp.c_fc`).map((v) => act(actKind, v)),
          `${p}mlp.c_proj`,
        );
        return h.map((v, i) => v + m[i]!);
      });
    }
    const head = get(c, "tie_word_embeddings", true) ? w(W, "model.embed_tokens.weight") : w(W, "lm_head.weight");
    return xs.map((x) => linear(ln(x, "model.norm"), head));
  });
};
