// ModelSpec: everything the shared decoder needs, mapped from a Hugging Face config.json. The reader
// here knows the keys the Llama-style families share; a family file maps only the keys that differ.
// All problems in a config are reported together.
import { err, ok, type Result } from "neverthrow";
import { ModuleError } from "./module.ts";
import type { GatedActivation } from "./mlp.ts";
import type { RopeScaling, RopeSpec } from "./rope.ts";

export type HfConfig = Readonly<Record<string, unknown>>;

export interface ModelSpec {
  /** The registry family that built it (`llama`). */
  family: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  hiddenAct: GatedActivation;
  rmsNormEps: number;
  /** 1 for Gemma's (1 + w) norms, else 0 */
  normWeightOffset: number;
  /** bias on q/k/v, and on o */
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  /** per-head RMSNorm of q and k (Qwen3) */
  qkNorm: boolean;
  fusedQkv: boolean;
  fusedGateUp: boolean;
  /** Gemma 2: norms after attention and MLP too (post_attention_layernorm is then a post-norm) */
  sandwichNorms: boolean;
  rope: RopeSpec;
  /** One per layer: 0 = full causal attention, else the sliding window. */
  slidingWindows: number[];
  /** multiplies q . k */
  attnScale: number;
  /** 0 = off */
  attnSoftcap: number;
  /** 0 = off; else logits = cap * tanh(logits / cap) */
  finalSoftcap: number;
  /** multiplies the token embeddings (Gemma: sqrt(hidden), rounded to f32) */
  embedScale: number;
  tieWordEmbeddings: boolean;
  initializerRange: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  /** The config.json this came from: saveModel writes it back as it was. */
  config: HfConfig;
}

/** Typed reads of config keys; each failure is recorded (with the key) instead of thrown. */
export class ConfigReader {
  readonly problems: string[] = [];
  constructor(
    readonly config: HfConfig,
    /** Where the config came from, for messages (`models/tiny/config.json`). */
    readonly where = "config.json",
  ) {}

  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }

  private problem(key: string, want: string, got: unknown): void {
    this.problems.push(`${this.where}: "${key}" must be ${want}, got ${got === undefined ? "nothing" : JSON.stringify(got)}`);
  }

  /** A positive integer (or >= 0 with min 0); `fallback` when absent. */
  int(key: string, fallback?: number, min = 1): number {
    const v = this.config[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      this.problem(key, min === 1 ? "a positive integer" : `an integer >= ${min}`, v);
      return fallback ?? min;
    }
    return v;
  }

  num(key: string, fallback?: number): number {
    const v = this.config[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.problem(key, "a finite number", v);
      return fallback ?? 0;
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") {
      this.problem(key, "true or false", v);
      return fallback;
    }
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.config[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== "string") {
      this.problem(key, "a string", v);
      return fallback ?? "";
    }
    return v;
  }

  /** A token id or a list of them (eos_token_id may be either); [] when absent. */
  ids(key: string): number[] {
    const v = this.config[key];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => typeof x === "number" && Number.isInteger(x))) {
      this.problem(key, "a token id or a list of token ids", v);
      return [];
    }
    return list as number[];
  }

  /** Records a problem found by the caller. */
  fail(message: string): void {
    this.problems.push(`${this.where}: ${message}`);
  }
}

const ACTIVATIONS: Record<string, GatedActivation> = { silu: "silu", swish: "silu", gelu_pytorch_tanh: "gelu_tanh" };

/** `rope_scaling` (or transformers 5's `rope_parameters`) as a RopeScaling; null for none/default. */
function readRopeScaling(r: ConfigReader, raw: unknown, key: string): RopeScaling | null {
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
  } else {
    sub.fail(`rope type "${type}" is not supported (supported: default, linear, dynamic, llama3)`);
  }
  if (out && "factor" in out && !(out.factor > 0)) sub.fail(`"factor" must be positive, got ${out.factor}`);
  r.problems.push(...sub.problems);
  return out;
}

/** Keys a family sets where its config differs from Llama's (or that its config.json lacks). */
export type SpecOverrides = Partial<Omit<ModelSpec, "family" | "config" | "rope">> & { rope?: Partial<RopeSpec> };

export interface ReadDecoderOptions {
  /** Names the file in messages; default "config.json". */
  where?: string;
  /**
   * The config as the shared keys should see it, when the family names or encodes one differently
   * (Gemma's `hidden_activation` for `hidden_act`). spec.config stays the original.
   */
  view?: (config: HfConfig) => HfConfig;
  /** Reads the family's own keys from the same reader and returns the fields that differ. */
  extend?: (r: ConfigReader, base: ModelSpec) => SpecOverrides;
}

/**
 * Reads the keys Llama-style configs share (sizes, heads, head_dim, norms eps, RoPE and its scaling,
 * biases, tied embeddings, token ids), then the family's `extend`; every problem from both is
 * reported together.
 */
export function readDecoderConfig(original: HfConfig, family: string, opts: ReadDecoderOptions = {}): Result<ModelSpec, ModuleError> {
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
  if (sizesRead && !r.has("head_dim") && hiddenSize % numHeads !== 0) r.fail(`hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and there is no head_dim`);
  if (r.num("attention_dropout", 0) !== 0) r.fail(`attention_dropout ${String(config.attention_dropout)} is not supported (the attention kernel has no dropout); set it to 0.0`);
  if (r.int("pretraining_tp", 1) !== 1) r.fail(`pretraining_tp must be 1 (split-weight emulation is not supported)`);

  // transformers 5 moves theta and scaling into rope_parameters; older configs use rope_theta + rope_scaling.
  const ropeParams = config.rope_parameters;
  const hasNew = ropeParams !== undefined && ropeParams !== null && typeof ropeParams === "object";
  const theta = hasNew ? new ConfigReader(ropeParams as HfConfig, `${where} rope_parameters`).num("rope_theta", r.num("rope_theta", 10000)) : r.num("rope_theta", 10000);
  const scaling = hasNew ? readRopeScaling(r, ropeParams, "rope_parameters") : readRopeScaling(r, config.rope_scaling, "rope_scaling");
  const partial = r.num("partial_rotary_factor", 1);
  const rotaryDim = Math.floor(headDim * partial);
  if (sizesRead && (rotaryDim <= 0 || rotaryDim % 2 !== 0)) r.fail(`head_dim ${headDim} x partial_rotary_factor ${partial} gives ${rotaryDim} rotary dims; it must be a positive even number`);
  const eos = r.ids("eos_token_id");
  const bos = r.ids("bos_token_id");
  const pad = r.ids("pad_token_id");

  const base: ModelSpec = {
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
    normWeightOffset: 0,
    qkvBias: r.bool("attention_bias", false),
    oBias: r.bool("attention_bias", false),
    mlpBias: r.bool("mlp_bias", false),
    qkNorm: false,
    fusedQkv: false,
    fusedGateUp: false,
    sandwichNorms: false,
    rope: { theta, rotaryDim, maxPositionEmbeddings: r.int("max_position_embeddings", 2048), scaling },
    slidingWindows: new Array<number>(numLayers).fill(0),
    attnScale: 1 / Math.sqrt(headDim),
    attnSoftcap: 0,
    finalSoftcap: 0,
    embedScale: 1,
    tieWordEmbeddings: r.bool("tie_word_embeddings", false),
    initializerRange: r.num("initializer_range", 0.02),
    bosTokenId: bos[0] ?? null,
    eosTokenIds: eos,
    // Some configs write -1 for "no pad token".
    padTokenId: pad[0] !== undefined && pad[0] >= 0 ? pad[0] : null,
    config: original,
  };
  const o = opts.extend ? opts.extend(r, base) : {};
  const spec: ModelSpec = { ...base, ...o, rope: { ...base.rope, ...o.rope } };
  if (spec.slidingWindows.length !== spec.numLayers) r.fail(`${spec.slidingWindows.length} sliding windows for ${spec.numLayers} layers`);
  if (spec.vocabSize > 0 && [spec.bosTokenId, spec.padTokenId, ...spec.eosTokenIds].some((id) => id !== null && (id < 0 || id >= spec.vocabSize))) {
    r.fail(`a special token id (bos ${spec.bosTokenId}, eos ${spec.eosTokenIds.join("/")}, pad ${spec.padTokenId}) is outside the vocabulary of ${spec.vocabSize}`);
  }
  if (r.problems.length) return err(new ModuleError(`${r.problems.length} problem(s) in ${where} for family ${family}:\n  ${r.problems.join("\n  ")}`, r.problems));
  return ok(spec);
}
