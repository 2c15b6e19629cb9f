// The dataset format contract: what a format plugin provides (merged into the registry's
// DatasetEntry), and how a dataset_info entry picks its format: ranking datasets go to `pairwise`,
// kto_tag datasets to `kto`, all others to their `formatting` (alpaca by default), as LLaMA-Factory's
// converters decide. The formats themselves (row logic included) live in plugins/data/formats.
import type { Result } from "neverthrow";
import type { DatasetAttr } from "./dataset-info.ts";
import type { SkipReason } from "./problems.ts";
import type { Example, ExampleKind } from "./types.ts";

type WithoutSource<T> = T extends unknown ? Omit<T, "source"> : never;
/** An example as a format makes it; the pipeline adds where it came from. */
export type ExampleBody = WithoutSource<Example>;

/** Why one row cannot become an example; the pipeline adds the file and row. */
export interface RowProblem {
  readonly reason: SkipReason;
  readonly detail: string;
}

export interface DatasetFormat {
  /** The example kinds this format yields (checked against the stage before any row is read). */
  readonly produces: readonly ExampleKind[];
  /** One row to one example (aligned prompt/response messages, system and tools), or why not. Must not throw. */
  convert(row: unknown, attr: DatasetAttr): Result<ExampleBody, RowProblem>;
}

declare module "../registry/collections.ts" {
  interface DatasetEntry extends DatasetFormat {}
}

/** The registry name of the format that converts this dataset's rows. */
export function formatNameOf(attr: DatasetAttr): string {
  if (attr.ranking) return "pairwise";
  if (attr.columns.kto_tag !== undefined) return "kto";
  return attr.formatting;
}
