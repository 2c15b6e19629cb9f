// JSON Lines, read lazily: one JSON value per line, in chunks, so a file larger than memory streams.
// Blank lines are reported as informational skips; a line that is not JSON is a bad row.
import type { RowSource } from "../types.ts";
import { type ByteSource, DEFAULT_MAX_LINE_CHARS, readLines } from "./lines.ts";
import { lineRows, type ReadItem, type RowStream } from "./rows.ts";

export function readJsonl(source: ByteSource, file: string, dataset: string, maxRowChars = DEFAULT_MAX_LINE_CHARS): RowStream {
  return lineRows(readLines(source, maxRowChars), file, dataset, jsonRow, maxRowChars);
}

function jsonRow(text: string, source: RowSource): ReadItem {
  try {
    return { kind: "row", value: JSON.parse(text), source };
  } catch (e) {
    return { kind: "bad", bad: { reason: "unparsable", detail: `not valid JSON: ${(e as Error).message}`, source } };
  }
}
