// The config keys Llama-style families share, read into a LlamaSpec: sizes, heads, head_dim, norm eps,
// the activation, RoPE and its scaling, biases, tied embeddings, token ids; and the sliding-window keys.
// A family reads its own keys through `extend`; every problem from both is reported together.
import { err, ok, type Result } from "neverthrow";
import { ConfigReader, type GatedActivation, type HfConfig, type ModelSpec, ModuleError, type RopeScaling } from "../../core/index.ts";

/** What the Llama-style blocks (llama.ts) need beyond ModelSpec. */
export interface LlamaSpec extends ModelSpec {
  intermediateSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  hiddenAct: GatedActivation;
  rmsNormEps: number;
  /** bias on q/k/v, and on o */
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  /** One per layer: 0 = full causal attention, else the sliding window. */
  slidingWindows: number[];
  /** multiplies q . k */
  attnScale: number;
}

const ACTIVATIONS: Record<string, GatedActivation> = { silu: "silu", swish: "silu", gelu_pytorch_tanh: "gelu_tanh" };

/** YaRN's mscale: 0.1 * mscale * ln(scale) + 1 past a scale of 1. */
export function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/**
 * A `yarn` scaling as transformers resolves it: original_max_position_embeddings defaults to
 * max_position_embeddings, a missing factor is their ratio, beta_fast/beta_slow 32/1, truncate true, and
 * attention_factor (when not given) from mscale/mscale_all_dim or the paper's 0.1 ln(factor) + 1.
 */
function readYarn(sub: ConfigReader, maxPositions: number): RopeScaling {
  const original = sub.has("original_max_position_embeddings") ? sub.int("original_max_position_embeddings") : maxPositions;
  const factor = sub.has("factor") ? sub.num("factor") : maxPositions / original;
  const mscale = sub.num("mscale", 0);
  const mscaleAllDim = sub.num("mscale_all_dim", 0);
  const attentionFactor = sub.has("attention_factor")
    ? sub.num("attention_factor")
    : mscale && mscaleAllDim
      ? yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim)
      : yarnMscale(factor);
  // `beta_fast or 32`: a null or 0 takes the default, as in transformers.
  const beta = (k: string, d: number) => (sub.config[k] ? sub.num(k) : d);
  return {
    type: "yarn",
    factor,
    originalMaxPositionEmbeddings: original,
    betaFast: beta("beta_fast", 32),
    betaSlow: beta("beta_slow", 1),
    truncate: sub.bool("truncate", true),
    attentionFactor,
  };
}

/** `rope_scaling` (or transformers 5's `rope_parameters`) as a RopeScaling; null for none/default. */
export function readRopeScaling(r: ConfigReader, raw: unknown, key: string): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    r.fail(`"${key}" must be an object, got ${JSON.stringify(raw)}`);
    return null;
  }
  const sub = new ConfigReader(raw as HfConfig, `${r.where} ${key}`);
  const type = sub.has("rope_type") ? sub.str("rope_type") : sub.str("type", "default");
  let out: RopeScaling | null = null;
  if (type === "default") out = null;
  else if (type === "linear" || type === "dynamic") out = { type, factor: sub.num("factor") };
  else if (type === "llama3") {
    out = {
      type,
      factor: sub.num("factor"),
      lowFreqFactor: sub.num("low_freq_factor"),
      highFreqFactor: sub.num("high_freq_factor"),
      originalMaxPositionEmbeddings: sub.int("original_max_position_embeddings"),
    };
    if (out.highFreqFactor <= out.lowFreqFactor) sub.fail(`high_freq_factor (${out.highFreqFactor}) must exceed low_freq_factor (${out.lowFreqFactor})`);
  } else if (type === "yarn") {
    out = readYarn(sub, r.num("max_position_embeddings", 2048));
  } else {
    sub.fail(`rope type "${type}" is not supported (supported: default, linear, dynamic, llama3, yarn)`);
  }
  if (out && "factor" in out && !(out.factor > 0)) sub.fail(`"factor" must be positive, got ${out.factor}`);
  r.problems.push(...sub.problems);
  return out;
}

export interface ReadLlamaOptions<S extends LlamaSpec> {
  /** Names the file in messages; default "config.json". */
  where?: string;
  /**
   * The config as the shared keys should see it, when the family names or encodes one differently
   * (Gemma's `hidden_activation` for `hidden_act`). spec.config stays the original.
   */
  view?: (config: HfConfig) => HfConfig;
  /** Reads the family's own keys from the same reader: the fields that differ and the family's own. */
  extend?: (r: ConfigReader, base: LlamaSpec) => Omit<S, keyof LlamaSpec> & Partial<LlamaSpec>;
}

/**
 * Reads the keys Llama-style configs share (sizes, heads, head_dim, norms eps, RoPE and its scaling,
 * biases, tied embeddings, token ids), then the family's `extend`; every problem from both is
 * reported together.
 */
export function readLlamaConfig<S extends LlamaSpec = LlamaSpec>(original: HfConfig, family: string, opts: ReadLlamaOptions<S> = {}): Result<S, ModuleError> {
  const where = opts.where ?? "config.json";
  const config = opts.view ? opts.view(original) : original;
  const r = new ConfigReader(config, where);
  const hiddenSize = r.int("hidden_size");
  const numHeads = r.int("num_attention_heads");
  const numLayers = r.int("num_hidden_layers");
  const numKvHeads = r.int("num_key_value_heads", numHeads);
  const headDim = r.int("head_dim", Math.max(1, Math.floor(hiddenSize / numHeads)));
  // Checks derived from the sizes only make sense when the sizes themselves were read.
  const sizesRead = r.problems.length === 0;
  const actName = r.str("hidden_act", "silu");
  const hiddenAct = ACTIVATIONS[actName];
  if (!hiddenAct) r.fail(`hidden_act "${actName}" is not supported (supported: ${Object.keys(ACTIVATIONS).join(", ")})`);
  if (numHeads % numKvHeads !== 0) r.fail(`num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  if (sizesRead && !r.has("head_dim") && hiddenSize % numHeads !== 0)
    r.fail(`hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and there is no head_dim`);
  if (r.num("attention_dropout", 0) !== 0)
    r.fail(`attention_dropout ${String(config.attention_dropout)} is not supported (the attention kernel has no dropout); set it to 0.0`);
  if (r.int("pretraining_tp", 1) !== 1) r.fail(`pretraining_tp must be 1 (split-weight emulation is not supported)`);

  // transformers 5 moves theta and scaling into rope_parameters; older configs use rope_theta + rope_scaling.
  const ropeParams = config.rope_parameters;
  const hasNew = ropeParams !== undefined && ropeParams !== null && typeof ropeParams === "object";
  const theta = hasNew
    ? new ConfigReader(ropeParams as HfConfig, `${where} rope_parameters`).num("rope_theta", r.num("rope_theta", 10000))
    : r.num("rope_theta", 10000);
  const scaling = hasNew ? readRopeScaling(r, ropeParams, "rope_parameters") : readRopeScaling(r, config.rope_scaling, "rope_scaling");
  const partial = r.num("partial_rotary_factor", 1);
  const rotaryDim = Math.floor(headDim * partial);
  if (sizesRead && (rotaryDim <= 0 || rotaryDim % 2 !== 0))
    r.fail(`head_dim ${headDim} x partial_rotary_factor ${partial} gives ${rotaryDim} rotary dims; it must be a positive even number`);
  const eos = r.ids("eos_token_id");
  const bos = r.ids("bos_token_id");
  const pad = r.ids("pad_token_id");

  const base: LlamaSpec = {
    family,
    vocabSize: r.int("vocab_size"),
    hiddenSize,
    intermediateSize: r.int("intermediate_size"),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    hiddenAct: hiddenAct ?? "silu",
    rmsNormEps: r.num("rms_norm_eps", 1e-6),
    qkvBias: r.bool("attention_bias", false),
    oBias: r.bool("attention_bias", false),
    mlpBias: r.bool("mlp_bias", false),
    rope: { theta, rotaryDim, maxPositionEmbeddings: r.int("max_position_embeddings", 2048), scaling },
    slidingWindows: new Array<number>(numLayers).fill(0),
    attnScale: 1 / Math.sqrt(headDim),
    tieWordEmbeddings: r.bool("tie_word_embeddings", false),
    initializerRange: r.num("initializer_range", 0.02),
    bosTokenId: bos[0] ?? null,
    eosTokenIds: eos,
    // Some configs write -1 for "no pad token".
    padTokenId: pad[0] !== undefined && pad[0] >= 0 ? pad[0] : null,
    config: original,
  };
  const spec = { ...base, ...opts.extend?.(r, base) } as S;
  if (spec.slidingWindows.length !== spec.numLayers) r.fail(`${spec.slidingWindows.length} sliding windows for ${spec.numLayers} layers`);
  if (spec.vocabSize > 0 && [spec.bosTokenId, spec.padTokenId, ...spec.eosTokenIds].some((id) => id !== null && (id < 0 || id >= spec.vocabSize))) {
    r.fail(
      `a special token id (bos ${spec.bosTokenId}, eos ${spec.eosTokenIds.join("/")}, pad ${spec.padTokenId}) is outside the vocabulary of ${spec.vocabSize}`,
    );
  }
  if (r.problems.length)
    return err(new ModuleError(`${r.problems.length} problem(s) in ${where} for family ${family}:\n  ${r.problems.join("\n  ")}`, r.problems));
  return ok(spec);
}

/**
 * `sliding_window` as an HF config class resolves it: `fallback` (the class default) when the key is
 * absent, 0 (full attention) when it is null, else a positive window.
 */
export function readWindow(r: ConfigReader, fallback: number): number {
  if (r.config.sliding_window === null) return 0;
  return r.int("sliding_window", fallback, 0);
}

/**
 * One window per layer: `layer_types` ("sliding_attention" / "full_attention") when the config lists
 * them (transformers >= 4.53 writes it), else `sliding(i)`; a sliding layer gets `window` (0 = none).
 */
export function layerWindows(r: ConfigReader, numLayers: number, window: number, sliding: (layer: number) => boolean): number[] {
  const types = r.config.layer_types;
  if (types === undefined || types === null) return Array.from({ length: numLayers }, (_, i) => (sliding(i) ? window : 0));
  const ok = Array.isArray(types) && types.length === numLayers && types.every((t) => t === "sliding_attention" || t === "full_attention");
  if (!ok) {
    r.fail(`"layer_types" must list "sliding_attention" or "full_attention" for each of the ${numLayers} layers, got ${JSON.stringify(types)}`);
    return new Array<number>(numLayers).fill(0);
  }
  return (types as string[]).map((t) => (t === "sliding_attention" ? window : 0));
}
