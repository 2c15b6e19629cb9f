// What every file reader yields: a row (any JSON-like value) with where it came from, or a bad row
// the reader itself found (a line that is not JSON, a CSV record with the wrong field count).
import type { BadRow } from "../problems.ts";
import type { RowSource } from "../types.ts";

export type ReadItem = { readonly kind: "row"; readonly value: unknown; readonly source: RowSource } | { readonly kind: "bad"; readonly bad: BadRow };

export type RowStream = AsyncGenerator<ReadItem>;

/**
 * The non-blank lines of a line-per-row file, numbered as rows, with blank lines reported as
 * informational skips (they are neither rows nor silently dropped). `toItem` turns a line into a row.
 */
export async function* lineRows(
  lines: AsyncIterable<{ text: string; line: number }>,
  file: string,
  dataset: string,
  toItem: (text: string, source: RowSource) => ReadItem,
): RowStream {
  let row = 0;
  for await (const { text, line } of lines) {
    if (text.trim() === "") {
      yield { kind: "bad", bad: { reason: "blank-line", detail: "blank line", source: { dataset, file, row: row + 1, line } } };
      continue;
    }
    row++;
    yield toItem(text, { dataset, file, row, line });
  }
}
