// What every file reader yields: a row (any JSON-like value) with where it came from, or a bad row
// the reader itself found (a line that is not JSON, a CSV record with the wrong field count, a row
// over the size limit), or a note about a row that is kept (invalid UTF-8 replaced).
import type { BadRow } from "../problems.ts";
import type { RowSource } from "../types.ts";
import type { Line } from "./lines.ts";

export type ReadItem = { readonly kind: "row"; readonly value: unknown; readonly source: RowSource } | { readonly kind: "bad"; readonly bad: BadRow };

export type RowStream = AsyncGenerator<ReadItem>;

/** The note that a row kept its text with `n` invalid UTF-8 sequences replaced by U+FFFD. */
export function invalidUtf8Note(n: number, source: RowSource): ReadItem {
  const what = n === 1 ? "1 byte sequence that is not UTF-8 was" : `${n} byte sequences that are not UTF-8 were`;
  return { kind: "bad", bad: { reason: "invalid-utf8", detail: `${what} replaced by U+FFFD (the row is kept; fix the file's encoding)`, source } };
}

/** The bad row for a row longer than the readers' limit. */
export function oversizedRow(chars: number, limit: number, source: RowSource): ReadItem {
  return {
    kind: "bad",
    bad: { reason: "oversized", detail: `the row is over ${limit} characters (${chars} read before it was dropped); split it, or raise max_row_chars`, source },
  };
}

/**
 * The non-blank lines of a line-per-row file, numbered as rows, with blank lines reported as
 * informational skips (they are neither rows nor silently dropped). `toItem` turns a line into a row.
 */
export async function* lineRows(
  lines: AsyncIterable<Line>,
  file: string,
  dataset: string,
  toItem: (text: string, source: RowSource) => ReadItem,
  maxLineChars: number,
): RowStream {
  let row = 0;
  for await (const { text, line, invalidUtf8, tooLong } of lines) {
    if (tooLong !== undefined) {
      row++;
      yield oversizedRow(tooLong, maxLineChars, { dataset, file, row, line });
      continue;
    }
    if (text.trim() === "") {
      yield { kind: "bad", bad: { reason: "blank-line", detail: "blank line", source: { dataset, file, row: row + 1, line } } };
      continue;
    }
    row++;
    if (invalidUtf8 !== undefined) yield invalidUtf8Note(invalidUtf8, { dataset, file, row, line });
    yield toItem(text, { dataset, file, row, line });
  }
}
