// `lft export --merge` from folders: load the base, put a PEFT adapter on it, fold it in and write a
// plain Hugging Face checkpoint.
import { err, type Result } from "neverthrow";
import { loadModel, MethodError, type Registry } from "../../../core/index.ts";
import { type ExportedModel, exportMerged, type MergeExportOptions } from "../merged-export.ts";
import { loadPeftAdapter } from "./peft-load.ts";

/**
 * Loads the base (f32, so the merge keeps full precision unless `dtype` asks otherwise), puts the PEFT
 * adapter in `adapterDir` on it, merges and writes outDir.
 */
export function exportPeftMerged(
  baseDir: string,
  adapterDir: string,
  outDir: string,
  registry: Pick<Registry, "list" | "get">,
  opts: Omit<MergeExportOptions, "baseDir"> = {},
): Result<ExportedModel, MethodError> {
  const loaded = loadModel(baseDir, registry, { dtype: "f32" });
  if (loaded.isErr()) return err(new MethodError(loaded.error.message));
  const { model, family, generation } = loaded.value;
  try {
    const adapter = loadPeftAdapter(model, adapterDir, family);
    if (adapter.isErr()) return err(adapter.error);
    return exportMerged(adapter.value, outDir, {
      ...opts,
      baseDir,
      generation: opts.generation ?? (generation.file === null ? undefined : { ...generation.raw }),
    });
  } finally {
    model.dispose();
  }
}
