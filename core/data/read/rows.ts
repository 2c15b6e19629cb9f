// What every file reader yields: a row (any JSON-like value) with where it came from, or a bad row
// the reader itself found (a line that is not JSON, a CSV record with the wrong field count).
import type { BadRow } from "../problems.ts";
import type { RowSource } from "../types.ts";

export type ReadItem =
  | { readonly kind: "row"; readonly value: unknown; readonly source: RowSource }
  | { readonly kind: "bad"; readonly bad: BadRow };

export type RowStream = AsyncGenerator<ReadItem>;
