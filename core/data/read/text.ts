// Plain text: each line is a row {text: line}, as Hugging Face's `text` loader reads .txt files.
// Blank lines are reported as informational skips rather than turned into empty documents.
import type { ByteSource } from "./lines.ts";
import { DEFAULT_MAX_LINE_CHARS, readLines } from "./lines.ts";
import { lineRows, type RowStream } from "./rows.ts";

export function readText(source: ByteSource, file: string, dataset: string, maxRowChars = DEFAULT_MAX_LINE_CHARS): RowStream {
  return lineRows(readLines(source, maxRowChars), file, dataset, (text, source) => ({ kind: "row", value: { text }, source }), maxRowChars);
}
