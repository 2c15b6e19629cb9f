// A registry with the built-in data plugins and stages (whose processors build samples), and the
// fixture paths the data tests read.
import { join } from "node:path";
import { createRegistry, type DataOptions, dataOptionSchema, validateOptions } from "../../../../core/index.ts";
import { dataPlugins } from "../../../../plugins/data/index.ts";
import stages, { feedbackProcessor, pairwiseProcessor, pretrainProcessor, promptOnlyProcessor, supervisedProcessor } from "../../../../plugins/stages/index.ts";

export const LF_DATA = join(import.meta.dir, "../../../fixtures/llamafactory-data");

export function dataRegistry() {
  const r = createRegistry();
  for (const p of [...dataPlugins, stages]) {
    const used = r.use(p);
    if (used.isErr()) throw used.error;
  }
  return r;
}

/** Data options as a recipe would give them, defaults filled, dataset dir the LLaMA-Factory fixtures. */
export function dataOptions(values: Record<string, unknown>): DataOptions {
  return validateOptions(dataOptionSchema, { dataset_dir: LF_DATA, ...values }, "test")._unsafeUnwrap();
}

/** The stage plugins' sample processors by the kind of samples they build (pairwise and kto have no stage yet). */
export const processors = {
  pt: pretrainProcessor,
  sft: supervisedProcessor,
  pairwise: pairwiseProcessor,
  kto: feedbackProcessor,
  prompt: promptOnlyProcessor,
} as const;
