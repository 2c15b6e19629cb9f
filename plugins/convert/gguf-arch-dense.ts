// GGUF tables of the dense families beyond Llama/Qwen/Gemma, as convert_hf_to_gguf.py writes them:
// Gemma 2 (norms as 1 + w, post-attention/post-ffw norms, soft-capping and sliding-window keys; the
// converter writes no rope keys), Gemma 3 text (q/k norms, local layers' RoPE base as freq_base_swa), Phi-3 (fused attn_qkv and gate_up kept fused as ffn_up; default RoPE
// only), OLMo 2 (norms after attention and MLP, full-width q/k norms), Granite (Llama's permutation and
// its four multipliers as scale keys), StarCoder2 (LayerNorm with biases, c_fc/c_proj MLP) and SmolLM3
// (Llama's, RoPE skipped on every 4th layer), Cohere as command-r (LayerNorm, logit scale), GLM-4 (partial
// rotary, fused gate_up, extra norms) and InternLM3 (as llama). Where
// llama.cpp computes something the config does not say (Gemma 2/3's attention scale, Gemma 2's RoPE base,
// Gemma 3's layer pattern, SmolLM3's RoPE-less layers), other
// configs are refused.
import { err, type Result } from "neverthrow";
import { commonHyperparameters, type GgufArchitecture, llamaKeys, num, permuteQk, refusal } from "./gguf-arch.ts";
import { f32, type GgufValue, str, u32 } from "./gguf-file.ts";
import { ropeScalingType, ropeTheta } from "./gguf-rope.ts";

type Json = Record<string, unknown>;

/** The keys Gemma2Model.set_gguf_parameters writes (it does not call the shared ones: no RoPE keys). */
function gemma2Keys(config: Json): Result<Map<string, GgufValue>, Error> {
  const missing = ["max_position_embeddings", "hidden_size", "num_hidden_layers", "intermediate_size", "num_attention_heads", "rms_norm_eps", "head_dim"];
  const absent = [...missing, "attn_logit_softcapping", "final_logit_softcapping"].filter((k) => num(config, k) === undefined);
  if (absent.length) return err(new Error(`config.json: ${absent.join(", ")} missing (needed for the GGUF header of a gemma2 model)`));
  const layers = num(config, "num_hidden_layers")!;
  const heads = num(config, "num_attention_heads")!;
  const headDim = num(config, "head_dim")!;
  // llama.cpp scales queries by 1/sqrt(head_dim), by 1/sqrt(hidden/heads) for 46 layers (Gemma 2 27B).
  const llamaCppScalar = layers === 46 ? num(config, "hidden_size")! / heads : headDim;
  const scalar = num(config, "query_pre_attn_scalar") ?? headDim;
  if (scalar !== llamaCppScalar) return err(refusal("gemma2", `query_pre_attn_scalar ${scalar}: llama.cpp scales queries by 1/sqrt(${llamaCppScalar}) here`));
  const theta = ropeTheta(config) ?? 10000;
  if (theta !== 10000) return err(refusal("gemma2", `rope_theta ${theta}: the converter writes no RoPE base, so llama.cpp uses 10000`));
  if (ropeScalingType(config) !== null)
    return err(refusal("gemma2", `rope_scaling "${ropeScalingType(config)}": the converter writes no RoPE scaling for Gemma 2`));
  return commonHyperparameters("gemma2", config).map((common) => {
    const m = new Map<string, GgufValue>();
    for (const k of ["context_length", "embedding_length", "block_count", "feed_forward_length", "attention.head_count", "attention.head_count_kv"])
      m.set(`gemma2.${k}`, common.get(`gemma2.${k}`)!);
    m.set("gemma2.attention.layer_norm_rms_epsilon", f32(num(config, "rms_norm_eps")!));
    m.set("gemma2.attention.key_length", u32(headDim));
    m.set("gemma2.attention.value_length", u32(headDim));
    m.set("gemma2.attn_logit_softcapping", f32(num(config, "attn_logit_softcapping")!));
    m.set("gemma2.final_logit_softcapping", f32(num(config, "final_logit_softcapping")!));
    if (num(config, "sliding_window") !== undefined) m.set("gemma2.attention.sliding_window", u32(num(config, "sliding_window")!));
    return m;
  });
}

export const gemma2: GgufArchitecture = {
  name: "gemma2",
  hyperparameters: gemma2Keys,
  // Gemma's RMSNorm multiplies by (1 + w); llama.cpp's by w.
  edit: (hfName, data) => (hfName.endsWith("norm.weight") ? data.map((x) => x + 1) : data),
  drop: (hfName) => hfName === "lm_head.weight",
  layerTensors: {
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
  },
};

/** Gemma 3's local layers as HF lists them: layer_types, else all but every sliding_window_pattern-th. */
function gemma3LocalLayers(config: Json, layers: number): boolean[] {
  if (Array.isArray(config.layer_types)) return config.layer_types.map((t) => t === "sliding_attention");
  const pattern = num(config, "sliding_window_pattern") ?? num(config, "_sliding_window_pattern") ?? 6;
  return Array.from({ length: layers }, (_, i) => (i + 1) % pattern !== 0);
}

/**
 * Gemma3Model.set_gguf_parameters: the shared keys (global RoPE base and scaling), the local layers'
 * base as rope.freq_base_swa, the window, the final soft-cap when set. llama.cpp fixes the layer pattern
 * (every 6th global; the converter writes none) and the query scale, so configs that differ are refused.
 */
function gemma3Keys(config: Json): Result<Map<string, GgufValue>, Error> {
  const layers = num(config, "num_hidden_layers") ?? 0;
  const heads = num(config, "num_attention_heads") ?? 1;
  const headDim = num(config, "head_dim") ?? 256;
  const llamaCppScalar = layers === 62 ? (num(config, "hidden_size") ?? 0) / heads : headDim;
  const scalar = num(config, "query_pre_attn_scalar") ?? 256;
  if (scalar !== llamaCppScalar)
    return err(refusal("gemma3_text", `query_pre_attn_scalar ${scalar}: llama.cpp scales queries by 1/sqrt(${llamaCppScalar}) here`));
  if (config.attn_logit_softcapping != null) return err(refusal("gemma3_text", "attn_logit_softcapping: Gemma 3 has none (the converter asserts it)"));
  const scaling = ropeScalingType(config);
  if (scaling !== null && scaling !== "linear")
    return err(refusal("gemma3_text", `rope_scaling "${scaling}": llama.cpp would apply it to the local layers too (linear only)`));
  const local = gemma3LocalLayers(config, layers);
  const window = num(config, "sliding_window");
  const llamaCppLocal = Array.from({ length: layers }, (_, i) => i % 6 < 5);
  const windowed = window !== undefined && window > 0 && local.some(Boolean);
  if (windowed && local.some((l, i) => l !== llamaCppLocal[i]))
    return err(refusal("gemma3_text", "a sliding-window layer pattern other than five local layers to one global: llama.cpp assumes that one"));
  const parameters = (config.rope_parameters ?? {}) as Json;
  const localTheta = num((parameters.sliding_attention ?? {}) as Json, "rope_theta") ?? num(config, "rope_local_base_freq");
  const withDefaults = {
    max_position_embeddings: 131072,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    rms_norm_eps: 1e-6,
    head_dim: 256,
    rope_theta: 1_000_000,
    ...config,
  };
  return commonHyperparameters("gemma3", withDefaults, (m) => {
    if (localTheta !== undefined) m.set("gemma3.rope.freq_base_swa", f32(localTheta));
    const cap = num(config, "final_logit_softcapping");
    if (cap) m.set("gemma3.final_logit_softcapping", f32(cap));
    if (windowed) m.set("gemma3.attention.sliding_window", u32(window));
  });
}

export const gemma3: GgufArchitecture = {
  name: "gemma3",
  hyperparameters: gemma3Keys,
  // Gemma3RMSNorm multiplies by (1 + w), the q/k norms too.
  edit: (hfName, data) => (hfName.endsWith("norm.weight") ? data.map((x) => x + 1) : data),
  layerTensors: {
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
  },
};

export const phi3: GgufArchitecture = {
  name: "phi3",
  hyperparameters(config) {
    const scaling = ropeScalingType(config);
    if (scaling !== null)
      return err(
        refusal("phi3", `rope_scaling "${scaling}": only Phi-3 models with default RoPE are exported (LongRoPE's factor tensors are not written yet)`),
      );
    return commonHyperparameters("phi3", config, (m) => {
      const heads = num(config, "num_attention_heads")!;
      const rotary = num(config, "partial_rotary_factor") ?? 1;
      m.set("phi3.rope.scaling.original_context_length", u32(num(config, "original_max_position_embeddings") ?? num(config, "max_position_embeddings") ?? 0));
      m.set("phi3.rope.dimension_count", u32(Math.floor((rotary * num(config, "hidden_size")!) / heads)));
      m.set("phi3.attention.sliding_window", u32(num(config, "sliding_window") ?? 0));
    });
  },
  layerTensors: { "self_attn.qkv_proj.weight": "attn_qkv.weight", "mlp.gate_up_proj.weight": "ffn_up.weight" },
};

export const olmo2: GgufArchitecture = {
  name: "olmo2",
  hyperparameters(config) {
    if (num(config, "sliding_window") !== undefined) return err(refusal("olmo2", "sliding_window: the sliding-window layer pattern (OLMo 3) is not written"));
    if (config.tie_word_embeddings === true) return err(refusal("olmo2", "tie_word_embeddings: llama.cpp's olmo2 needs its own output.weight"));
    return commonHyperparameters("olmo2", config);
  },
  layerTensors: { "post_attention_layernorm.weight": "post_attention_norm.weight", "post_feedforward_layernorm.weight": "post_ffw_norm.weight" },
};

export const granite: GgufArchitecture = {
  name: "granite",
  hyperparameters(config) {
    // GraniteModel drops head_dim (llama.cpp derives it from hidden / heads).
    const { head_dim: _ignored, ...rest } = config;
    return commonHyperparameters("granite", rest, (m) => {
      llamaKeys("granite", rest)(m);
      const scale = (key: string, gguf: string) => {
        const v = num(config, key);
        if (v) m.set(gguf, f32(v));
      };
      scale("attention_multiplier", "granite.attention.scale");
      scale("embedding_multiplier", "granite.embedding_scale");
      scale("residual_multiplier", "granite.residual_scale");
      scale("logits_scaling", "granite.logit_scale");
    });
  },
  edit: permuteQk,
};

export const starcoder2: GgufArchitecture = {
  name: "starcoder2",
  hyperparameters(config) {
    if (config.use_bias === false) return err(refusal("starcoder2", "use_bias false: llama.cpp's starcoder2 needs every bias tensor"));
    return commonHyperparameters("starcoder2", config, () => {}, { layerNormEps: "norm_epsilon" });
  },
  layerTensors: {
    "input_layernorm.bias": "attn_norm.bias",
    "post_attention_layernorm.bias": "ffn_norm.bias",
    "self_attn.o_proj.bias": "attn_output.bias",
    "mlp.c_fc.weight": "ffn_up.weight",
    "mlp.c_fc.bias": "ffn_up.bias",
    "mlp.c_proj.weight": "ffn_down.weight",
    "mlp.c_proj.bias": "ffn_down.bias",
  },
};

/** SmolLM3: Llama's table (q/k permuted) as "smollm3"; llama.cpp skips RoPE on every 4th layer, fixed. */
export const smollm3: GgufArchitecture = {
  name: "smollm3",
  hyperparameters(config) {
    const layers = num(config, "num_hidden_layers") ?? 0;
    const interval = num(config, "no_rope_layer_interval") ?? 4;
    const given = Array.isArray(config.no_rope_layers) ? (config.no_rope_layers as unknown[]) : null;
    const rotated = given ?? Array.from({ length: layers }, (_, i) => ((i + 1) % interval !== 0 ? 1 : 0));
    if (rotated.some((r, i) => Boolean(r) !== ((i + 1) % 4 !== 0)))
      return err(refusal("smollm3", `no_rope_layers ${JSON.stringify(rotated)}: llama.cpp rotates every layer but each 4th`));
    if (config.use_sliding_window === true) return err(refusal("smollm3", "use_sliding_window: the converter writes no window"));
    return commonHyperparameters("smollm3", config, llamaKeys("smollm3", config));
  },
  edit: permuteQk,
};

/**
 * Cohere (Command R) as "command-r": LayerNorm eps, logit_scale, rope.scaling.type none, context from
 * model_max_length; RoPE already interleaved in HF (no permutation). llama.cpp always ties the head and
 * loads q/k norms exactly when there are 64+ layers (Command R+), so other configs are refused.
 */
export const commandR: GgufArchitecture = {
  name: "command-r",
  hyperparameters(config) {
    const layers = num(config, "num_hidden_layers") ?? 0;
    if (config.tie_word_embeddings === false)
      return err(refusal("cohere", "tie_word_embeddings false: llama.cpp's command-r always uses the embedding as its head"));
    if ((config.use_qk_norm === true) !== layers >= 64)
      return err(
        refusal(
          "cohere",
          `use_qk_norm ${String(config.use_qk_norm ?? false)} at ${layers} layers: llama.cpp loads q/k norms exactly when there are 64 layers or more`,
        ),
      );
    const context = num(config, "model_max_length") ?? num(config, "max_position_embeddings");
    return commonHyperparameters(
      "command-r",
      { ...config, ...(context !== undefined ? { max_position_embeddings: context } : {}) },
      (m) => {
        const scale = num(config, "logit_scale");
        if (scale !== undefined) m.set("command-r.logit_scale", f32(scale));
        m.set("command-r.rope.scaling.type", str("none"));
      },
      { layerNormEps: "layer_norm_eps" },
    );
  },
};

/**
 * GLM-4 (0414) as "glm4": the rotary dimension count is head_dim * partial_rotary_factor (0.5 unless
 * set); gate_up_proj stays fused as ffn_up; post_self_attn_layernorm / post_mlp_layernorm are the
 * post-attention / post-MLP norms. Its RoPE is already interleaved in HF (no permutation, no M-RoPE).
 */
export const glm4: GgufArchitecture = {
  name: "glm4",
  hyperparameters(config) {
    const parameters = (config.rope_parameters ?? {}) as Json;
    if ("mrope_section" in parameters) return err(refusal("glm4", "mrope_section: GLM-4V's multimodal RoPE is not written"));
    const partial = num(parameters, "partial_rotary_factor") ?? num(config, "partial_rotary_factor") ?? 0.5;
    const headDim = num(config, "head_dim") ?? (num(config, "hidden_size") ?? 0) / (num(config, "num_attention_heads") ?? 1);
    return commonHyperparameters("glm4", config, (m) => m.set("glm4.rope.dimension_count", u32(Math.floor(headDim * partial))));
  },
  layerTensors: {
    "mlp.gate_up_proj.weight": "ffn_up.weight",
    "post_self_attn_layernorm.weight": "post_attention_norm.weight",
    "post_mlp_layernorm.weight": "post_ffw_norm.weight",
  },
};

/** InternLM3 as "llama" (InternLM3Model): Llama's keys and q/k permutation, no rope_freqs; no o_proj/MLP biases. */
export const internlm3: GgufArchitecture = {
  name: "llama",
  hyperparameters(config) {
    if (config.bias === true) return err(refusal("internlm3", "bias true: the o_proj and MLP biases are not written"));
    return commonHyperparameters("llama", config, llamaKeys("llama", config));
  },
  edit: permuteQk,
};
