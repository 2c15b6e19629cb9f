// What a GGUF architecture table holds, as llama.cpp's convert_hf_to_gguf.py writes each architecture:
// the general.architecture name, the <arch>.* hyperparameters from config.json, per-layer HF -> GGUF
// tensor names beyond the shared ones, and the converter's weight edits; and the helpers the tables
// share (the keys every architecture writes, Llama's q/k row permutation). The tables: gguf-architectures.ts.
import { err, ok, type Result } from "neverthrow";
import { f32, type GgufValue, u32 } from "./gguf-file.ts";
import { ropeScalingKeys, ropeTheta } from "./gguf-rope.ts";

type Json = Record<string, unknown>;

export interface GgufArchitecture {
  /** general.architecture. */
  name: string;
  /** <arch>.* entries. */
  hyperparameters(config: Json): Result<Map<string, GgufValue>, Error>;
  /** Edits a tensor as the converter does before writing (rows of a row-major [rows, cols] array). */
  edit?(hfName: string, data: Float32Array, shape: readonly number[], config: Json): Float32Array;
  /** HF names the converter drops (beyond rotary caches). */
  drop?(hfName: string, config: Json): boolean;
  /** model.layers.N.<HF tail> -> blk.N.<GGUF tail> where this architecture differs from the shared table. */
  layerTensors?: Readonly<Record<string, string>>;
}

export const num = (config: Json, key: string): number | undefined => (typeof config[key] === "number" ? (config[key] as number) : undefined);

export interface CommonOptions {
  /** The architecture loads a rope_freqs tensor (Llama 3.1's `llama3` scaling). */
  ropeFreqs?: boolean;
  /** The norm epsilon's config key and GGUF key when not RMSNorm's (StarCoder2's LayerNorm). */
  layerNormEps?: string;
}

/** The keys every architecture writes (TextModel.set_gguf_parameters); problems listed together. */
export function commonHyperparameters(
  arch: string,
  config: Json,
  extra: (m: Map<string, GgufValue>) => void = () => {},
  options: CommonOptions = {},
): Result<Map<string, GgufValue>, Error> {
  const eps = options.layerNormEps ?? "rms_norm_eps";
  const missing = ["num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads", eps].filter((k) => num(config, k) === undefined);
  if (missing.length) return err(new Error(`config.json: ${missing.join(", ")} missing (needed for the GGUF header)`));
  const scaling = ropeScalingKeys(arch, config, options.ropeFreqs === true);
  if (scaling.isErr()) return err(scaling.error);
  const m = new Map<string, GgufValue>();
  const heads = num(config, "num_attention_heads")!;
  m.set(`${arch}.block_count`, u32(num(config, "num_hidden_layers")!));
  const context = num(config, "max_position_embeddings");
  if (context !== undefined) m.set(`${arch}.context_length`, u32(context));
  m.set(`${arch}.embedding_length`, u32(num(config, "hidden_size")!));
  m.set(`${arch}.feed_forward_length`, u32(num(config, "intermediate_size")!));
  m.set(`${arch}.attention.head_count`, u32(heads));
  m.set(`${arch}.attention.head_count_kv`, u32(num(config, "num_key_value_heads") ?? heads));
  const theta = ropeTheta(config);
  if (theta !== undefined) m.set(`${arch}.rope.freq_base`, f32(theta));
  if (options.layerNormEps) m.set(`${arch}.attention.layer_norm_epsilon`, f32(num(config, eps)!));
  else m.set(`${arch}.attention.layer_norm_rms_epsilon`, f32(num(config, eps)!));
  const headDim = num(config, "head_dim");
  if (headDim !== undefined) {
    m.set(`${arch}.attention.key_length`, u32(headDim));
    m.set(`${arch}.attention.value_length`, u32(headDim));
  }
  for (const [k, v] of scaling.value) m.set(k, v);
  const experts = num(config, "num_local_experts") ?? num(config, "num_experts");
  if (experts !== undefined) m.set(`${arch}.expert_count`, u32(experts));
  const used = num(config, "num_experts_per_tok");
  if (used !== undefined) m.set(`${arch}.expert_used_count`, u32(used));
  extra(m);
  return ok(m);
}

/**
 * Rows of each head reordered from rotate-half pairs (i, i + d/2) to interleaved pairs (2i, 2i + 1):
 * the converter's permute(w, n_head, n_head_kv), i.e. reshape(heads, 2, d/2, cols).swapaxes(1, 2).
 */
export function halvesToInterleaved(w: Float32Array, heads: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const hd = rows / heads;
  const half = hd / 2;
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (let part = 0; part < 2; part++) {
        const src = (h * hd + part * half + i) * cols;
        out.set(w.subarray(src, src + cols), (h * hd + 2 * i + part) * cols);
      }
  return out;
}

/** q_proj/k_proj rows (and biases) permuted per head, k with its own head count (LlamaModel.permute). */
export function permuteQk(hfName: string, data: Float32Array, shape: readonly number[], config: Json): Float32Array {
  const heads = num(config, "num_attention_heads")!;
  const kvHeads = num(config, "num_key_value_heads") ?? heads;
  const cols = shape.length > 1 ? shape[1]! : 1;
  if (/\.q_proj\.(weight|bias)$/.test(hfName)) return halvesToInterleaved(data, heads, shape[0]!, cols);
  if (/\.k_proj\.(weight|bias)$/.test(hfName)) return halvesToInterleaved(data, kvHeads, shape[0]!, cols);
  return data;
}

/** LlamaModel.set_gguf_parameters' own keys: vocab_size and the rotary dimension count. */
export function llamaKeys(arch: string, config: Json): (m: Map<string, GgufValue>) => void {
  return (m) => {
    m.set(`${arch}.vocab_size`, u32(num(config, "vocab_size") ?? 0));
    m.set(`${arch}.rope.dimension_count`, u32(num(config, "head_dim") ?? num(config, "hidden_size")! / num(config, "num_attention_heads")!));
  };
}

/** An error naming the model_type and why llama.cpp would compute something else. */
export const refusal = (modelType: string, why: string): Error => new Error(`config.json: model_type "${modelType}" is not exported to GGUF with ${why}`);
