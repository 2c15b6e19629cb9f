// JSON Lines, read lazily: one JSON value per line, in chunks, so a file larger than memory streams.
// Blank lines are reported as informational skips; a line that is not JSON is a bad row.
import type { ByteSource } from "./lines.ts";
import { readLines } from "./lines.ts";
import { lineRows, type RowStream } from "./rows.ts";

export function readJsonl(source: ByteSource, file: string, dataset: string): RowStream {
  return lineRows(readLines(source), file, dataset, (text, src) => {
    try {
      return { kind: "row", value: JSON.parse(text), source: src };
    } catch (e) {
      return { kind: "bad", bad: { reason: "unparsable", detail: `not valid JSON: ${(e as Error).message}`, source: src } };
    }
  });
}
