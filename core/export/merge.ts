// `lft export --merge`: fold a method's adapters into the base weights and write a complete Hugging Face
// checkpoint (config.json, safetensors sharded above a size limit, generation_config.json) with the
// base folder's tokenizer files, which this loader and transformers both load without PEFT.
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Result, err, ok } from "neverthrow";
import { loadModel, saveModel } from "../nn/load.ts";
import type { HfConfig } from "../nn/spec.ts";
import { type AppliedMethod, MethodError } from "../peft/method.ts";
import { loadPeftAdapter } from "../peft/peft-load.ts";
import type { Registry } from "../registry/registry.ts";

/** Files a base folder may hold besides weights and config that a merged checkpoint carries over. */
export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "tokenizer.model",
  "added_tokens.json",
  "vocab.json",
  "merges.txt",
  "chat_template.jinja",
  "chat_template.json",
] as const;

export interface MergeExportOptions {
  /** The base model's folder: its tokenizer files are copied next to the merged weights. */
  readonly baseDir?: string;
  /** Weight dtype on disk; default: as the model stores each tensor. */
  readonly dtype?: "f32" | "bf16" | "f16";
  /** Shard above this many bytes (default 5e9, as transformers). */
  readonly maxShardBytes?: number;
  /** generation_config.json contents; default: the model's bos/eos/pad ids. */
  readonly generation?: HfConfig;
}

export interface ExportedModel {
  readonly dir: string;
  readonly files: string[];
}

/** Copies the base folder's tokenizer files into `outDir` (created if needed); returns the files written. */
export function copyTokenizerFiles(baseDir: string, outDir: string): string[] {
  if (resolve(baseDir) === resolve(outDir)) return [];
  mkdirSync(outDir, { recursive: true });
  const copied: string[] = [];
  for (const f of TOKENIZER_FILES) {
    if (!existsSync(join(baseDir, f))) continue;
    copyFileSync(join(baseDir, f), join(outDir, f));
    copied.push(join(outDir, f));
  }
  return copied;
}

/** Merges `applied` into its model (in place: the adapters are gone afterwards) and writes the result to outDir. */
export function exportMerged(applied: AppliedMethod, outDir: string, opts: MergeExportOptions = {}): Result<ExportedModel, MethodError> {
  const merged = applied.merge();
  if (merged.isErr()) return err(merged.error);
  return saveMergedModel(applied, outDir, opts);
}

function saveMergedModel(applied: AppliedMethod, outDir: string, opts: MergeExportOptions): Result<ExportedModel, MethodError> {
  const saved = saveModel(applied.model, outDir, { dtype: opts.dtype, maxShardBytes: opts.maxShardBytes, generation: opts.generation });
  if (saved.isErr()) return err(new MethodError(`export to ${outDir}: ${saved.error.message}`));
  try {
    mkdirSync(outDir, { recursive: true });
    const tokenizer = opts.baseDir ? copyTokenizerFiles(opts.baseDir, outDir) : [];
    return ok({ dir: outDir, files: [...saved.value.files, ...tokenizer] });
  } catch (e) {
    return err(new MethodError(`export to ${outDir}: copying tokenizer files: ${(e as Error).message}`));
  }
}

/**
 * The whole `lft export --merge` path from folders: loads the base (f32, so the merge keeps full
 * precision unless `dtype` asks otherwise), puts the PEFT adapter on it, merges and writes outDir.
 */
export function exportPeftMerged(baseDir: string, adapterDir: string, outDir: string, registry: Pick<Registry, "list" | "get">, opts: Omit<MergeExportOptions, "baseDir"> = {}): Result<ExportedModel, MethodError> {
  const loaded = loadModel(baseDir, registry, { dtype: "f32" });
  if (loaded.isErr()) return err(new MethodError(loaded.error.message));
  const { model, family, generation } = loaded.value;
  try {
    const adapter = loadPeftAdapter(model, adapterDir, family);
    if (adapter.isErr()) return err(adapter.error);
    return exportMerged(adapter.value, outDir, { ...opts, baseDir, generation: opts.generation ?? (generation.file === null ? undefined : { ...generation.raw }) });
  } finally {
    model.dispose();
  }
}
