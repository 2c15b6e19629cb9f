// JSON Lines, read lazily: one JSON value per line, in chunks, so a file larger than memory streams.
// Blank lines are reported as informational skips; a line that is not JSON is a bad row.
import type { ByteSource } from "./lines.ts";
import { readLines } from "./lines.ts";
import type { RowStream } from "./rows.ts";

export async function* readJsonl(source: ByteSource, file: string, dataset: string): RowStream {
  let row = 0;
  for await (const { text, line } of readLines(source)) {
    if (text.trim() === "") {
      yield { kind: "bad", bad: { reason: "blank-line", detail: "blank line", source: { dataset, file, row: row + 1, line } } };
      continue;
    }
    row++;
    const src = { dataset, file, row, line };
    try {
      yield { kind: "row", value: JSON.parse(text), source: src };
    } catch (e) {
      yield { kind: "bad", bad: { reason: "unparsable", detail: `not valid JSON: ${(e as Error).message}`, source: src } };
    }
  }
}
