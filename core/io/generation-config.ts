// Reads a Hugging Face `generation_config.json` (optional): sampling settings and special token ids, with
// transformers' GenerationConfig defaults for anything the file does not set or when there is no file.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Result } from "neverthrow";
import { FieldReader } from "./config-fields.ts";
import type { ConfigError } from "./errors.ts";
import { readJsonObject } from "./json.ts";

export interface GenerationConfig {
  /** null when the folder has no generation_config.json. */
  readonly file: string | null;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly do_sample: boolean;
  readonly temperature: number;
  readonly top_k: number;
  readonly top_p: number;
  readonly repetition_penalty: number;
  /** undefined: not set (generation stops at EOS or the caller's limit). */
  readonly max_new_tokens?: number;
  readonly bos_token_id?: number;
  readonly eos_token_id?: number | number[];
  readonly pad_token_id?: number;
}

export const GENERATION_DEFAULTS = { do_sample: false, temperature: 1, top_k: 50, top_p: 1, repetition_penalty: 1 } as const;

export function generationConfigFrom(file: string | null, raw: Record<string, unknown>): Result<GenerationConfig, ConfigError> {
  const f = new FieldReader(file ?? "(defaults)", raw);
  const d = GENERATION_DEFAULTS;
  return f.finish({
    file,
    raw,
    do_sample: f.read("do_sample", "boolean") ?? d.do_sample,
    temperature: f.read("temperature", "nonNegative") ?? d.temperature,
    top_k: f.read("top_k", "nonNegativeInt") ?? d.top_k,
    top_p: f.read("top_p", "unit") ?? d.top_p,
    repetition_penalty: f.read("repetition_penalty", "positive") ?? d.repetition_penalty,
    max_new_tokens: f.read("max_new_tokens", "positiveInt"),
    bos_token_id: f.read("bos_token_id", "int"),
    eos_token_id: f.read("eos_token_id", "intOrInts"),
    pad_token_id: f.read("pad_token_id", "int"),
  });
}

/** Reads `<dir>/generation_config.json`, or returns the defaults when it does not exist. */
export function readGenerationConfig(dir: string): Result<GenerationConfig, ConfigError> {
  const file = join(dir, "generation_config.json");
  if (!existsSync(file)) return generationConfigFrom(null, {});
  return readJsonObject(file, "generation config").andThen((raw) => generationConfigFrom(file, raw));
}
