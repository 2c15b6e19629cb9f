// Mistral 3's float64 reference (modeling_mistral3.py's language model, a MistralModel + lm_head): the
// decoder's keys come from config.text_config (MistralConfig: bos 1, eos 2, sliding_window 4096 unless
// given, null = full attention, no biases), its weights from language_model.model.* / language_model.lm_head.
import type { HfConfig } from "../../../../core/index.ts";
import { llamaLikeForward } from "./llama-like.ts";
import type { Weights } from "./primitives.ts";

export function mistral3Reference(config: HfConfig, W: Weights, rows: number[][]): Float64Array[][] {
  const c = config.text_config as HfConfig;
  const window = c.sliding_window === undefined ? 4096 : c.sliding_window === null ? 0 : Number(c.sliding_window);
  return llamaLikeForward(c, W, rows, {
    prefix: "language_model.model.",
    head: "language_model.lm_head.weight",
    ropeOn: () => true,
    window: () => window,
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    tied: c.tie_word_embeddings === true,
  });
}
