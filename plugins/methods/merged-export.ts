// `export { merge = true }` for any method: fold the method's adapters into the base weights (full and
// freeze have none) and write a complete Hugging Face checkpoint (config.json, safetensors sharded above
// a size limit, generation_config.json) with the base folder's tokenizer files, which this loader and
// transformers both load without PEFT.
import { mkdirSync } from "node:fs";
import { err, ok, type Result } from "neverthrow";
import { type AppliedMethod, copyTokenizerFiles, type HfConfig, MethodError, saveModel } from "../../core/index.ts";

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
