// A model's size from its config.json alone, checked before anything is built: every size key a safe
// integer, a layer count lft can build, and an estimate of the parameters (embeddings, attention and
// MLP of every layer, experts counted) whose bytes must fit the machine's memory. The estimate leaves
// out norms and biases, so it is a lower bound: a refused config could never have loaded.
import { totalmem } from "node:os";

/** More layers than any published model has by two orders of magnitude; past it the builder's recursion is the limit. */
export const maxLayers = 10_000;

/** The size keys a config may state, with the largest value a real model has used (for naming the odd one out). */
const typicalMax: Readonly<Record<string, number>> = {
  num_hidden_layers: 128,
  hidden_size: 20_480,
  intermediate_size: 65_536,
  moe_intermediate_size: 65_536,
  vocab_size: 262_144,
  num_attention_heads: 128,
  num_key_value_heads: 128,
  head_dim: 512,
  num_local_experts: 256,
  num_experts: 256,
  n_routed_experts: 256,
};

export interface ModelSizeEstimate {
  readonly parameters: number;
  /** The size keys read, as written. */
  readonly keys: Readonly<Record<string, number>>;
}

export interface ModelSizeOptions {
  /** Bytes each parameter takes as loaded (4 for f32, 2 for bf16/f16, 0.5 for 4-bit quantised). */
  readonly bytesPerParameter: number;
  /** Memory the weights must fit in; default the machine's RAM. */
  readonly memoryBytes?: number;
}

/** Bytes per parameter for a load dtype ("auto" reads torch_dtype); 0.5 when a method quantises the weights. */
export function bytesPerParameter(dtype: unknown, config: Readonly<Record<string, unknown>>, quantised = false): number {
  if (quantised) return 0.5;
  const stored = config.torch_dtype ?? config.dtype;
  const half = (d: unknown) => d === "bf16" || d === "f16" || d === "bfloat16" || d === "float16";
  if (dtype === "auto") return half(stored) ? 2 : 4;
  return half(dtype) ? 2 : 4;
}

/** What is wrong with a config's sizes: the key to look at, and why. */
export interface ModelSizeProblem {
  readonly key?: string;
  readonly detail: string;
}

/** The config whose keys size the language model: a composite (vision + text) config's text_config. */
function languageConfig(config: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const text = config.text_config;
  if (text === null || typeof text !== "object" || Array.isArray(text)) return config;
  const t = text as Readonly<Record<string, unknown>>;
  return { ...t, tie_word_embeddings: t.tie_word_embeddings ?? config.tie_word_embeddings };
}

/** The parameter estimate, or the key that is not a size (a composite config's text_config is read). */
export function estimateModelSize(full: Readonly<Record<string, unknown>>): ModelSizeEstimate | ModelSizeProblem {
  const config = languageConfig(full);
  const keys: Record<string, number> = {};
  for (const key of Object.keys(typicalMax)) {
    const v = config[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0)
      return { key, detail: `must be a positive whole number of at most 2^53 - 1, found ${JSON.stringify(v)}` };
    keys[key] = v;
  }
  const hidden = keys.hidden_size ?? 0;
  const layers = keys.num_hidden_layers ?? 0;
  const heads = keys.num_attention_heads ?? 1;
  const headDim = keys.head_dim ?? (heads > 0 ? Math.floor(hidden / heads) : 0);
  const kvHeads = keys.num_key_value_heads ?? heads;
  const experts = Math.max(1, keys.num_local_experts ?? keys.num_experts ?? keys.n_routed_experts ?? 1);
  const mlpWidth = experts > 1 ? (keys.moe_intermediate_size ?? keys.intermediate_size ?? 0) : (keys.intermediate_size ?? 0);
  const tied = config.tie_word_embeddings === true;
  // Doubles: every product below is far under 2^1023, and only compared, never used as a size.
  const attention = hidden * heads * headDim * 2 + hidden * kvHeads * headDim * 2;
  const mlp = 3 * hidden * mlpWidth * experts;
  const embeddings = (keys.vocab_size ?? 0) * hidden * (tied ? 1 : 2);
  return { parameters: embeddings + layers * (attention + mlp), keys };
}

/** Why the config cannot be built on this machine, naming the key; undefined when it can. */
export function modelSizeProblem(config: Readonly<Record<string, unknown>>, o: ModelSizeOptions): ModelSizeProblem | undefined {
  const estimate = estimateModelSize(config);
  if (!("parameters" in estimate)) return estimate;
  const layers = estimate.keys.num_hidden_layers;
  if (layers !== undefined && layers > maxLayers)
    return { key: "num_hidden_layers", detail: `num_hidden_layers = ${layers}; lft builds models of at most ${maxLayers} layers` };
  const memory = o.memoryBytes ?? totalmem();
  const bytes = estimate.parameters * o.bytesPerParameter;
  if (bytes <= memory) return undefined;
  const culprit = Object.entries(estimate.keys)
    .map(([key, value]) => [key, value / typicalMax[key]!] as const)
    .sort((a, b) => b[1] - a[1])[0]?.[0];
  const written = Object.entries(estimate.keys)
    .filter(([key]) => ["num_hidden_layers", "hidden_size", "intermediate_size", "vocab_size", "num_local_experts", "num_experts"].includes(key))
    .map(([key, value]) => `${key} = ${value}`)
    .join(", ");
  return {
    ...(culprit === undefined ? {} : { key: culprit }),
    detail: `the config describes about ${humanCount(estimate.parameters)} parameters (${written}), ${humanBytes(bytes)} as loaded, more than this machine's ${humanBytes(memory)} of memory`,
  };
}

function humanCount(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toPrecision(3)} trillion`;
  if (n >= 1e9) return `${(n / 1e9).toPrecision(3)} billion`;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)} million`;
  return String(Math.round(n));
}

function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toPrecision(3)} ${units[i]}`;
}
