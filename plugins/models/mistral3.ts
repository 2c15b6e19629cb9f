// The mistral3 family, text only (Mistral-Small-3.1/3.2-24B, Magistral Small 2509): the language model of
// Mistral3ForConditionalGeneration. config.json nests the Mistral decoder's keys in `text_config`; its
// weights sit under `language_model.model.*` and `language_model.lm_head.*` as the released checkpoints
// store them (transformers >= 4.52 saves `model.language_model.*` / `lm_head.*`, read here too). The
// Pixtral `vision_tower.*` and `multi_modal_projector.*` are not loaded: one load warning says so.
import { err, type Result } from "neverthrow";
import {
  CausalLM,
  defineModelFamily,
  type ForwardOptions,
  type HfConfig,
  Linear,
  lastPositions,
  linearForward,
  Module,
  ModuleError,
  modelFamilyPlugin,
  type Tensor,
} from "../../core/index.ts";
import { LlamaDecoderLayer, LlamaModel, llamaNorm } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig, readWindow } from "./llama-config.ts";

/** `language_model.*`: the Mistral decoder (`model`) and its head, as the checkpoint nests them. */
export class Mistral3LanguageModel extends Module {
  readonly model: LlamaModel;
  readonly lm_head: Linear | null = null;
  constructor(spec: LlamaSpec) {
    super();
    this.model = this.addModule("model", new LlamaModel(spec, (i) => new LlamaDecoderLayer(spec, i), llamaNorm(spec)));
    if (!spec.tieWordEmbeddings) this.lm_head = this.addModule("lm_head", new Linear(spec.hiddenSize, spec.vocabSize));
  }
}

/** Mistral3ForConditionalGeneration without its vision tower: embed -> layers -> norm -> head. */
export class Mistral3ForConditionalGeneration extends CausalLM<LlamaSpec> {
  readonly language_model: Mistral3LanguageModel;
  constructor(spec: LlamaSpec) {
    super(spec);
    this.language_model = this.addModule("language_model", new Mistral3LanguageModel(spec));
  }

  forward(ids: Tensor, opts: ForwardOptions = {}): Tensor {
    const { model, lm_head } = this.language_model;
    const ctx = this.context(ids, opts);
    const x = this.runLayers(model.layers.items, model.embed_tokens.forward(ids), ctx);
    const hidden = model.norm.forward(lastPositions(x, opts));
    if (opts.hiddenOnly) return hidden;
    return lm_head ? lm_head.forward(hidden) : linearForward(hidden, model.embed_tokens.weight);
  }

  /** The head is a plain matrix unless a method adapted, quantised or biased it: the loss may fuse it. */
  override plainHead(): boolean {
    const h = this.language_model.lm_head;
    return !h || !(h.adapter || h.frozen || h.hasBias);
  }

  override outputWeight(): Tensor | null {
    if (!this.plainHead()) return null;
    return this.language_model.lm_head?.weight ?? this.language_model.model.embed_tokens.weight;
  }
}

const VISION = ["vision_tower.", "multi_modal_projector."];

/** text_config as MistralConfig reads it: bos 1 and eos 2 unless given. */
function textConfig(config: HfConfig): HfConfig {
  return { bos_token_id: 1, eos_token_id: 2, ...(config.text_config as HfConfig) };
}

function readMistral3(config: HfConfig, where = "config.json"): Result<LlamaSpec, ModuleError> {
  const text = config.text_config;
  if (text === null || typeof text !== "object" || Array.isArray(text))
    return err(new ModuleError(`${where}: "text_config" must be an object holding the language model's keys, got ${JSON.stringify(text)}`));
  const textType = (text as HfConfig).model_type ?? "mistral";
  if (textType !== "mistral")
    return err(
      new ModuleError(`${where}: text_config.model_type "${String(textType)}" is not supported (the mistral3 family reads a "mistral" language model)`),
    );
  return readLlamaConfig(config, "mistral3", {
    where: `${where} text_config`,
    view: textConfig,
    // MistralConfig: sliding_window defaults to 4096 on every layer (null: full attention); no biases.
    extend: (r, base) => ({ slidingWindows: new Array<number>(base.numLayers).fill(readWindow(r, 4096)), qkvBias: false, oBias: false, mlpBias: false }),
  });
}

export const mistral3 = defineModelFamily<LlamaSpec>({
  name: "mistral3",
  doc: "Mistral Small 3.1/3.2 text (Mistral3ForConditionalGeneration's language model; text_config; the vision tower is not loaded)",
  modelTypes: ["mistral3"],
  fromConfig: readMistral3,
  build: (spec) => new Mistral3ForConditionalGeneration(spec),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  sanitize: (name) => {
    if (VISION.some((p) => name.startsWith(p))) return null;
    // transformers >= 4.52's layout: model.language_model.X -> language_model.model.X, lm_head -> language_model.lm_head.
    if (name.startsWith("model.language_model.")) return `language_model.model.${name.slice("model.language_model.".length)}`;
    if (name.startsWith("model.vision_tower.") || name.startsWith("model.multi_modal_projector.")) return null;
    if (name.startsWith("lm_head.")) return `language_model.${name}`;
    return name;
  },
  skippedNote: (dropped) => {
    const vision = dropped.filter((n) => VISION.some((p) => n.startsWith(p) || n.startsWith(`model.${p}`)));
    return vision.length
      ? `${vision.length} vision tensors (vision_tower.*, multi_modal_projector.*) were not loaded: the mistral3 family loads the language model only`
      : null;
  },
  tiny: {
    // Mistral Small 3.1's Tekken tokenizer (131,072 ids) is not among the fixtures: Mistral 7B's, at its vocabulary.
    tokenizer: "mistral-7b",
    config: {
      architectures: ["Mistral3ForConditionalGeneration"],
      model_type: "mistral3",
      image_token_index: 10,
      multimodal_projector_bias: false,
      projector_hidden_act: "gelu",
      spatial_merge_size: 2,
      text_config: {
        attention_dropout: 0.0,
        head_dim: 8,
        hidden_act: "silu",
        hidden_size: 32,
        initializer_range: 0.02,
        intermediate_size: 64,
        max_position_embeddings: 131072,
        model_type: "mistral",
        num_attention_heads: 4,
        num_hidden_layers: 2,
        num_key_value_heads: 2,
        rms_norm_eps: 1e-5,
        rope_theta: 1000000000.0,
        sliding_window: null,
        tie_word_embeddings: false,
        use_cache: true,
        vocab_size: 32000,
      },
      torch_dtype: "float32",
      vision_config: {
        attention_dropout: 0.0,
        head_dim: 8,
        hidden_act: "silu",
        hidden_size: 16,
        image_size: 56,
        initializer_range: 0.02,
        intermediate_size: 32,
        model_type: "pixtral",
        num_attention_heads: 2,
        num_channels: 3,
        num_hidden_layers: 1,
        patch_size: 14,
        rope_theta: 10000.0,
      },
      vision_feature_layer: -1,
    },
  },
});

export default modelFamilyPlugin(mistral3);
