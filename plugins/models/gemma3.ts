// The gemma3 family (Gemma 3 text: 270M, 1B, and the language model of 4B/12B/27B): Gemma 2's layers
// (sandwich norms, (1 + w) RMSNorms, sqrt(hidden) embedding scale, tanh-GELU, tied head) with five
// sliding-window ("local") layers to each full ("global") one, a (1 + w) RMSNorm over each head of q and
// k before RoPE, and two RoPEs: local layers rotate with rope_local_base_freq and no scaling, global
// layers with rope_theta and the config's rope_scaling. No attention soft-cap (as transformers); the final
// logits are capped only when final_logit_softcapping is set.
import { err, type Result } from "neverthrow";
import { type ConfigReader, defineModelFamily, type HfConfig, ModuleError, modelFamilyPlugin, type RopeSpec } from "../../core/index.ts";
import { gemmaView, readGemmaKeys } from "./gemma.ts";
import { Gemma2DecoderLayer, Gemma2ForCausalLM, type Gemma2Spec, softcap } from "./gemma2.ts";
import { llamaAttentionConfig } from "./llama.ts";
import { layerWindows, readLlamaConfig, readRopeScaling, readWindow } from "./llama-config.ts";

/** HF's layer type of the local layers, and the key of their RoPE in spec.ropeVariants. */
const LOCAL = "sliding_attention";
const GLOBAL = "full_attention";
/** A multimodal checkpoint's vision tower and projector (either layout): not part of the text model. */
const VISION = /^(model\.)?(vision_tower|multi_modal_projector)\./;

export interface Gemma3Spec extends Gemma2Spec {
  /** One per layer: a local (sliding-window) layer, rotated by the local RoPE. */
  localLayers: boolean[];
}

/** Gemma3TextConfig's defaults for the keys a config may leave out (the text_config of a 4B+ checkpoint does). */
const TEXT_DEFAULTS: HfConfig = {
  vocab_size: 262208,
  hidden_size: 2304,
  intermediate_size: 9216,
  num_hidden_layers: 26,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  max_position_embeddings: 131072,
  rope_theta: 1_000_000,
  rope_local_base_freq: 10_000,
  query_pre_attn_scalar: 256,
};

/** transformers 5's per-layer-type rope_parameters ({full_attention: {...}, sliding_attention: {...}}), or null. */
function perTypeRope(c: HfConfig): { global: HfConfig; local: HfConfig | null } | null {
  const p = c.rope_parameters;
  if (p === null || typeof p !== "object" || Array.isArray(p)) return null;
  const byType = p as Record<string, unknown>;
  if (!(GLOBAL in byType) && !(LOCAL in byType)) return null;
  const sub = (v: unknown) => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as HfConfig) : null);
  return { global: sub(byType[GLOBAL]) ?? {}, local: sub(byType[LOCAL]) };
}

/**
 * The config as the shared reader sees it: Gemma's defaults, Gemma3TextConfig's, and (transformers 5) the
 * global layers' entry of rope_parameters in place of the per-type object (the local one is read apart).
 */
function gemma3View(c: HfConfig): HfConfig {
  const v = gemmaView({ ...TEXT_DEFAULTS, ...c });
  const byType = perTypeRope(c);
  return byType ? { ...v, rope_parameters: { rope_theta: v.rope_theta, ...byType.global } } : v;
}

/** The local layers' RoPE: the original config's rope_parameters.sliding_attention (transformers 5), else rope_local_base_freq unscaled. */
function readLocalRope(r: ConfigReader, config: HfConfig, global: RopeSpec): RopeSpec {
  const local = perTypeRope(config)?.local;
  const fallback = r.num("rope_local_base_freq", 10_000);
  if (!local) return { ...global, theta: fallback, scaling: null };
  const theta = typeof local.rope_theta === "number" ? local.rope_theta : fallback;
  return { ...global, theta, scaling: readRopeScaling(r, local, `rope_parameters.${LOCAL}`) };
}

/**
 * Which layers are local: `layer_types` when listed, else every layer but each `sliding_window_pattern`-th
 * (6: layers 5, 11, ... are global). layerWindows with a window of 1 marks them.
 */
function readLocalLayers(r: ConfigReader, numLayers: number): boolean[] {
  const pattern = r.int("sliding_window_pattern", r.int("_sliding_window_pattern", 6));
  return layerWindows(r, numLayers, 1, (i) => (i + 1) % pattern !== 0).map((w) => w > 0);
}

function readGemma3(config: HfConfig, where: string | undefined): Result<Gemma3Spec, ModuleError> {
  return readLlamaConfig<Gemma3Spec>(config, "gemma3", {
    where,
    view: gemma3View,
    extend: (r, base) => {
      const scalar = r.num("query_pre_attn_scalar");
      if (!(scalar > 0)) r.fail(`"query_pre_attn_scalar" must be positive, got ${scalar}`);
      if (r.bool("use_bidirectional_attention", false))
        r.fail(`use_bidirectional_attention is not supported (the decoder is causal; EmbeddingGemma is not a causal LM)`);
      const localLayers = readLocalLayers(r, base.numLayers);
      const window = readWindow(r, 4096);
      return {
        ...readGemmaKeys(base),
        attnScale: scalar > 0 ? scalar ** -0.5 : base.attnScale,
        // transformers' Gemma3Attention keeps attn_logit_softcapping but never passes it to the attention
        // function (Gemma 2's does): the scores are never capped, whatever the config says.
        attnSoftcap: 0,
        // Gemma3TextConfig defaults it to None (off); Gemma3ForCausalLM caps the logits when it is set.
        finalSoftcap: softcap(r, "final_logit_softcapping", 0),
        localLayers,
        slidingWindows: localLayers.map((local) => (local ? window : 0)),
        ropeVariants: { [LOCAL]: readLocalRope(r, config, base.rope) },
      };
    },
  });
}

/**
 * A multimodal Gemma 3 config (model_type "gemma3": text_config + vision_config) read as its language
 * model: the text config with the top level's token ids (and dtype). spec.config becomes that text config, so a saved
 * model is a gemma3_text checkpoint (the vision tower is not loaded).
 */
function readMultimodal(config: HfConfig, where = "config.json"): Result<Gemma3Spec, ModuleError> {
  const text = config.text_config;
  if (text === null || typeof text !== "object" || Array.isArray(text))
    return err(new ModuleError(`${where}: a "gemma3" config loads as its language model, which needs a "text_config" object; found ${JSON.stringify(text)}`));
  const ids = Object.fromEntries(["bos_token_id", "eos_token_id", "pad_token_id"].filter((k) => config[k] !== undefined).map((k) => [k, config[k]]));
  // The released text_configs leave the dtype to the top level.
  const dtype = config.torch_dtype !== undefined ? { torch_dtype: config.torch_dtype } : {};
  const textConfig: HfConfig = { ...dtype, ...(text as HfConfig), ...ids, architectures: ["Gemma3ForCausalLM"], model_type: "gemma3_text" };
  return readGemma3(textConfig, `${where} text_config`).map((spec) => ({ ...spec, config: textConfig }));
}

export const gemma3 = defineModelFamily<Gemma3Spec>({
  name: "gemma3",
  doc: "Gemma 3 text (5 local : 1 global layers, sliding window, per-head (1 + w) q/k norms, local and global RoPE, sandwich norms)",
  modelTypes: ["gemma3_text", "gemma3"],
  fromConfig: (config, where) => (config.model_type === "gemma3" ? readMultimodal(config, where) : readGemma3(config, where)),
  build: (spec) =>
    new Gemma2ForCausalLM(spec, (i) => {
      const local = spec.localLayers[i]!;
      const attention = llamaAttentionConfig(spec, i, {
        softcap: spec.attnSoftcap,
        qkNorm: { eps: spec.rmsNormEps, weightOffset: 1 },
        ...(local ? { rope: LOCAL } : {}),
      });
      return new Gemma2DecoderLayer(spec, i, attention);
    }),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  // A multimodal checkpoint keeps the language model under language_model.* (transformers < 4.52) or
  // model.language_model.*; the vision tower and projector are not part of the text model.
  sanitize: (name) => {
    if (VISION.test(name)) return null;
    if (name.startsWith("language_model.model.")) return `model.${name.slice("language_model.model.".length)}`;
    if (name.startsWith("language_model.lm_head.")) return name.slice("language_model.".length);
    if (name.startsWith("model.language_model.")) return `model.${name.slice("model.language_model.".length)}`;
    return name;
  },
  skippedNote: (dropped) => {
    const vision = dropped.filter((n) => VISION.test(n)).length;
    return vision
      ? `${vision} vision tensors (vision_tower.*, multi_modal_projector.*) were not loaded: the gemma3 family loads the language model only`
      : null;
  },
  tiny: {
    tokenizer: "gemma3",
    config: {
      architectures: ["Gemma3ForCausalLM"],
      model_type: "gemma3_text",
      attention_bias: false,
      attention_dropout: 0.0,
      attn_logit_softcapping: null,
      bos_token_id: 2,
      cache_implementation: "hybrid",
      eos_token_id: [1, 106],
      final_logit_softcapping: null,
      head_dim: 16,
      hidden_activation: "gelu_pytorch_tanh",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      max_position_embeddings: 32768,
      num_attention_heads: 2,
      // Six layers show the pattern: five local, then layer 5 global.
      num_hidden_layers: 6,
      num_key_value_heads: 1,
      pad_token_id: 0,
      // Not head_dim (16), so the tests see which one scales the scores.
      query_pre_attn_scalar: 24,
      rms_norm_eps: 1e-6,
      rope_local_base_freq: 10000.0,
      // As Gemma 3 4B and larger: the global layers' RoPE is linearly scaled, the local layers' is not.
      rope_scaling: { factor: 8.0, rope_type: "linear" },
      rope_theta: 1000000.0,
      // A window shorter than the test sequences, so it matters.
      sliding_window: 4,
      sliding_window_pattern: 6,
      torch_dtype: "float32",
      use_cache: true,
      // As 4B and larger (and Gemma3TextConfig's default): the tokenizer's ids reach 262144 (<image_soft_token>).
      vocab_size: 262208,
    },
  },
});

export default modelFamilyPlugin(gemma3);
