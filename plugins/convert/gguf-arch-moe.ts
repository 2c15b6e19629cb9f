// GGUF tables of the mixture-of-experts families, as convert_hf_to_gguf.py writes them: each layer's
// experts stacked into ffn_{gate,up,down}_exps [experts, rows, cols] (gguf-tensors.ts), the router as
// ffn_gate_inp (kept f32), expert_count / expert_used_count. Mixtral is the "llama" architecture with
// experts; Qwen2-MoE ("qwen2moe") adds a shared expert and its sigmoid gate; Qwen3-MoE ("qwen3moe").
// llama.cpp fixes what HF configures: whether the top-k weights are renormalised (Mixtral and Qwen3-MoE
// yes, Qwen2-MoE no) and that every layer is sparse; other configs are refused.
import { err, type Result } from "neverthrow";
import { commonHyperparameters, type GgufArchitecture, llamaKeys, num, permuteQk, refusal } from "./gguf-arch.ts";
import { type GgufValue, u32 } from "./gguf-file.ts";

type Json = Record<string, unknown>;

/** Every layer sparse, and the renormalisation llama.cpp's graph for the architecture applies. */
function sparseEverywhere(modelType: string, config: Json, renormalises: boolean): Error | null {
  const only = config.mlp_only_layers;
  if (Array.isArray(only) && only.length)
    return refusal(modelType, `dense layers (mlp_only_layers ${JSON.stringify(only)}): llama.cpp makes every layer sparse`);
  const step = num(config, "decoder_sparse_step") ?? 1;
  if (step !== 1) return refusal(modelType, `decoder_sparse_step ${step}: llama.cpp makes every layer sparse`);
  if ((config.norm_topk_prob === true) !== renormalises)
    return refusal(
      modelType,
      `norm_topk_prob ${String(config.norm_topk_prob)}: llama.cpp ${renormalises ? "always renormalises" : "never renormalises"} the top-k weights here`,
    );
  return null;
}

const ROUTER = { "mlp.gate.weight": "ffn_gate_inp.weight" };

export const mixtral: GgufArchitecture = {
  name: "llama",
  hyperparameters: (config) => commonHyperparameters("llama", config, llamaKeys("llama", config), { ropeFreqs: true }),
  edit: permuteQk,
  layerTensors: { "block_sparse_moe.gate.weight": "ffn_gate_inp.weight" },
};

export const qwen2moe: GgufArchitecture = {
  name: "qwen2moe",
  hyperparameters(config): Result<Map<string, GgufValue>, Error> {
    const refused = sparseEverywhere("qwen2_moe", config, false);
    if (refused) return err(refused);
    if (config.tie_word_embeddings === true) return err(refusal("qwen2_moe", "tie_word_embeddings: llama.cpp's qwen2moe needs its own output.weight"));
    return commonHyperparameters("qwen2moe", config, (m) => {
      const expert = num(config, "moe_intermediate_size");
      if (expert !== undefined) m.set("qwen2moe.expert_feed_forward_length", u32(expert));
      const shared = num(config, "shared_expert_intermediate_size");
      if (shared !== undefined) m.set("qwen2moe.expert_shared_feed_forward_length", u32(shared));
    });
  },
  layerTensors: {
    ...ROUTER,
    "mlp.shared_expert.gate_proj.weight": "ffn_gate_shexp.weight",
    "mlp.shared_expert.up_proj.weight": "ffn_up_shexp.weight",
    "mlp.shared_expert.down_proj.weight": "ffn_down_shexp.weight",
    "mlp.shared_expert_gate.weight": "ffn_gate_inp_shexp.weight",
  },
};

export const qwen3moe: GgufArchitecture = {
  name: "qwen3moe",
  hyperparameters(config): Result<Map<string, GgufValue>, Error> {
    const refused = sparseEverywhere("qwen3_moe", config, true);
    if (refused) return err(refused);
    return commonHyperparameters("qwen3moe", config, (m) => {
      const expert = num(config, "moe_intermediate_size");
      if (expert !== undefined) m.set("qwen3moe.expert_feed_forward_length", u32(expert));
    });
  },
  layerTensors: ROUTER,
};
