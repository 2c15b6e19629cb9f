// The internlm3 family (InternLM3-8B-Instruct, remote code `modeling_internlm3.py`): Llama's blocks with
// its own bias keys (`qkv_bias` on q/k/v, `bias` on o and on the MLP), GQA with an explicit head_dim, and
// dynamic NTK RoPE (rope_scaling {"rope_type": "dynamic", "factor": 6.0} in the release); untied head.
import { defineModelFamily, modelFamilyPlugin } from "../../core/index.ts";
import { LlamaForCausalLM } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig } from "./llama-config.ts";

export const internlm3 = defineModelFamily<LlamaSpec>({
  name: "internlm3",
  doc: "InternLM3 (Llama blocks; qkv_bias on q/k/v, bias on o and the MLP; GQA; dynamic NTK RoPE)",
  modelTypes: ["internlm3"],
  fromConfig: (config, where) =>
    readLlamaConfig(config, "internlm3", {
      where,
      extend: (r) => {
        const bias = r.bool("bias", false);
        return { qkvBias: r.bool("qkv_bias", false), oBias: bias, mlpBias: bias };
      },
    }),
  build: (spec) => new LlamaForCausalLM(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  tiny: {
    // InternLM3's SentencePiece tokenizer (128,512 pieces, bos 1, eos 2) is not among the fixtures:
    // Llama 2's SentencePiece one, whose bos/eos ids are the same, at its vocabulary.
    tokenizer: "llama2",
    config: {
      architectures: ["InternLM3ForCausalLM"],
      model_type: "internlm3",
      attention_dropout: 0.0,
      bias: false,
      bos_token_id: 1,
      eos_token_id: 2,
      head_dim: 16,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 80,
      max_position_embeddings: 32768,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      pad_token_id: 2,
      qkv_bias: false,
      rms_norm_eps: 1e-5,
      rope_scaling: { factor: 6.0, rope_type: "dynamic" },
      rope_theta: 50000000,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 32000,
    },
  },
});

export default modelFamilyPlugin(internlm3);
