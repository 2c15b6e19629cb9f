// The tiny decoder's weights (test/core/train/tiny-run.ts) under HF-style names, with attention as layer 0
// and the MLP as layer 1, so optimizers that read model structure from names (BAdam's blocks, Adam-mini's
// heads, Muon's 2-D hidden weights) see a two-layer model.
import type { Tensor } from "../../../core/index.ts";

export const HF_NAMES: Readonly<Record<string, string>> = {
  embed: "model.embed_tokens.weight",
  norm1: "model.layers.0.input_layernorm.weight",
  wq: "model.layers.0.self_attn.q_proj.weight",
  wk: "model.layers.0.self_attn.k_proj.weight",
  wv: "model.layers.0.self_attn.v_proj.weight",
  wo: "model.layers.0.self_attn.o_proj.weight",
  norm2: "model.layers.1.post_attention_layernorm.weight",
  gate: "model.layers.1.mlp.gate_proj.weight",
  up: "model.layers.1.mlp.up_proj.weight",
  down: "model.layers.1.mlp.down_proj.weight",
  normF: "model.norm.weight",
  head: "lm_head.weight",
};

/** The tiny run's parameters keyed by their HF-style names. */
export function hfParams(params: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(params).map(([k, t]) => [HF_NAMES[k]!, t]));
}
