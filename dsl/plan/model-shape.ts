// The sizes of a decoder a plan needs, read from config.json alone (no weights): layers, hidden and
// MLP widths, heads, vocabulary, experts. A missing or odd size key is named, so the user knows what to fix.
import { err, ok, type Result } from "neverthrow";

export interface ModelShape {
  readonly layers: number;
  readonly hidden: number;
  readonly intermediate: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocab: number;
  /** Experts per MoE layer (1: dense) and how many each token visits. */
  readonly experts: number;
  readonly expertsPerToken: number;
  readonly tiedEmbeddings: boolean;
}

function positive(config: Readonly<Record<string, unknown>>, key: string): Result<number | undefined, string> {
  const v = config[key];
  if (v === undefined || v === null) return ok(undefined);
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) return err(`"${key}" must be a positive whole number, found ${JSON.stringify(v)}`);
  return ok(v);
}

/** The shape of a Llama-style config (every family lft ships reads these keys); the message names the key at fault. */
export function modelShapeOf(config: Readonly<Record<string, unknown>>): Result<ModelShape, string> {
  const read: Record<string, number | undefined> = {};
  for (const key of [
    "num_hidden_layers",
    "hidden_size",
    "intermediate_size",
    "moe_intermediate_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "vocab_size",
    "num_local_experts",
    "num_experts",
    "num_experts_per_tok",
  ]) {
    const v = positive(config, key);
    if (v.isErr()) return err(v.error);
    read[key] = v.value;
  }
  for (const key of ["num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads", "vocab_size"])
    if (read[key] === undefined) return err(`"${key}" is missing; a plan needs the model's sizes`);
  const hidden = read.hidden_size!;
  const heads = read.num_attention_heads!;
  const experts = read.num_local_experts ?? read.num_experts ?? 1;
  return ok({
    layers: read.num_hidden_layers!,
    hidden,
    intermediate: experts > 1 ? (read.moe_intermediate_size ?? read.intermediate_size!) : read.intermediate_size!,
    heads,
    kvHeads: read.num_key_value_heads ?? heads,
    headDim: read.head_dim ?? Math.floor(hidden / heads),
    vocab: read.vocab_size!,
    experts,
    expertsPerToken: experts > 1 ? Math.min(experts, read.num_experts_per_tok ?? 2) : 1,
    tiedEmbeddings: config.tie_word_embeddings === true,
  });
}
