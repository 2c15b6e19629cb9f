// SmolLM3's float64 reference (modular_smollm3.py): Llama's decoder where `use_rope = no_rope_layers[i]`
// (1 = RoPE, 0 = NoPE; by default `(i + 1) % no_rope_layer_interval != 0`), sliding windows only with
// use_sliding_window on layers whose layer_types entry (by default: the NoPE layers) is "sliding_attention".
import type { HfConfig } from "../../../../core/index.ts";
import { llamaLikeForward } from "./llama-like.ts";
import type { Weights } from "./primitives.ts";

export function smollm3Reference(c: HfConfig, W: Weights, rows: number[][]): Float64Array[][] {
  const L = Number(c.num_hidden_layers);
  const interval = Number(c.no_rope_layer_interval ?? 4);
  const noRope = (c.no_rope_layers as number[] | null | undefined) ?? Array.from({ length: L }, (_, i) => Number((i + 1) % interval !== 0));
  const useWindow = c.use_sliding_window === true && c.sliding_window != null;
  const types = (c.layer_types as string[] | null | undefined) ?? noRope.map((r) => (useWindow && !r ? "sliding_attention" : "full_attention"));
  return llamaLikeForward(c, W, rows, {
    prefix: "model.",
    head: "lm_head.weight",
    ropeOn: (l) => noRope[l] === 1,
    window: (l) => (useWindow && types[l] === "sliding_attention" ? Number(c.sliding_window) : 0),
    qkvBias: c.attention_bias === true,
    oBias: c.attention_bias === true,
    mlpBias: c.mlp_bias === true,
    tied: c.tie_word_embeddings !== false,
  });
}
