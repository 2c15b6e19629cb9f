// InternLM3's float64 reference (modeling_internlm3.py): Llama's decoder with q/k/v biases from
// `qkv_bias`, o_proj and MLP biases from `bias`, head_dim from the config, untied head, and RoPE whose
// base grows as base * (factor * seq / max_pos - (factor - 1)) ^ (dim / (dim - 2)) past max_position_embeddings.
import type { HfConfig } from "../../../../core/index.ts";
import { llamaLikeForward } from "./llama-like.ts";
import type { Weights } from "./primitives.ts";

export function internlm3Reference(c: HfConfig, W: Weights, rows: number[][]): Float64Array[][] {
  return llamaLikeForward(c, W, rows, {
    prefix: "model.",
    head: "lm_head.weight",
    ropeOn: () => true,
    window: () => 0,
    qkvBias: c.qkv_bias === true,
    oBias: c.bias === true,
    mlpBias: c.bias === true,
    tied: c.tie_word_embeddings === true,
  });
}
