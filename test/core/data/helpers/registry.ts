// A registry with the built-in data plugins, and the fixture paths the data tests read.
import { join } from "node:path";
import { createRegistry, type DataOptions, dataOptionSchema, validateOptions } from "../../../../core/index.ts";
import { dataPlugins } from "../../../../plugins/data/index.ts";

export const LF_DATA = join(import.meta.dir, "../../../fixtures/llamafactory-data");

export function dataRegistry() {
  const r = createRegistry();
  for (const p of dataPlugins) {
    const used = r.use(p);
    if (used.isErr()) throw used.error;
  }
  return r;
}

/** Data options as a recipe would give them, defaults filled, dataset dir the LLaMA-Factory fixtures. */
export function dataOptions(values: Record<string, unknown>): DataOptions {
  return validateOptions(dataOptionSchema, { dataset_dir: LF_DATA, ...values }, "test")._unsafeUnwrap();
}
