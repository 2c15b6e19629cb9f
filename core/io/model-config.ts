// Reads a Hugging Face `config.json`: the raw object, plus the fields most model families share, each
// type-checked (a wrong type names the key and the file). Family plugins read anything else from `raw`.
import { join } from "node:path";
import type { Result } from "neverthrow";
import { FieldReader } from "./config-fields.ts";
import type { ConfigError } from "./errors.ts";
import { readJsonObject } from "./json.ts";

export interface ModelConfig {
  readonly file: string;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly model_type?: string;
  readonly architectures?: string[];
  readonly hidden_size?: number;
  readonly intermediate_size?: number;
  readonly num_hidden_layers?: number;
  readonly num_attention_heads?: number;
  readonly num_key_value_heads?: number;
  readonly head_dim?: number;
  readonly vocab_size?: number;
  readonly max_position_embeddings?: number;
  readonly rms_norm_eps?: number;
  readonly rope_theta?: number;
  readonly rope_scaling?: Record<string, unknown>;
  readonly tie_word_embeddings?: boolean;
  /** `torch_dtype`, or `dtype` as newer transformers write it. */
  readonly torch_dtype?: string;
  readonly bos_token_id?: number;
  readonly eos_token_id?: number | number[];
  readonly pad_token_id?: number;
}

/** Parses an already-read config object; `file` labels errors. */
export function modelConfigFrom(file: string, raw: Record<string, unknown>): Result<ModelConfig, ConfigError> {
  const f = new FieldReader(file, raw);
  return f.finish({
    file,
    raw,
    model_type: f.read("model_type", "string"),
    architectures: f.read("architectures", "strings"),
    hidden_size: f.read("hidden_size", "positiveInt"),
    intermediate_size: f.read("intermediate_size", "positiveInt"),
    num_hidden_layers: f.read("num_hidden_layers", "positiveInt"),
    num_attention_heads: f.read("num_attention_heads", "positiveInt"),
    num_key_value_heads: f.read("num_key_value_heads", "positiveInt"),
    head_dim: f.read("head_dim", "positiveInt"),
    vocab_size: f.read("vocab_size", "positiveInt"),
    max_position_embeddings: f.read("max_position_embeddings", "positiveInt"),
    rms_norm_eps: f.read("rms_norm_eps", "positive"),
    rope_theta: f.read("rope_theta", "positive"),
    rope_scaling: f.read("rope_scaling", "object"),
    tie_word_embeddings: f.read("tie_word_embeddings", "boolean"),
    torch_dtype: f.read("torch_dtype", "string") ?? f.read("dtype", "string"),
    // Token ids may be negative in old configs (LLaMA's pad_token_id: -1 means "none").
    bos_token_id: f.read("bos_token_id", "int"),
    eos_token_id: f.read("eos_token_id", "intOrInts"),
    pad_token_id: f.read("pad_token_id", "int"),
  });
}

/** Reads `<dir>/config.json`. */
export function readModelConfig(dir: string): Result<ModelConfig, ConfigError> {
  const file = join(dir, "config.json");
  return readJsonObject(file, "model config").andThen((raw) => modelConfigFrom(file, raw));
}
