// Plain text: each line is a row {text: line}, as Hugging Face's `text` loader reads .txt files.
// Blank lines are reported as informational skips rather than turned into empty documents.
import type { ByteSource } from "./lines.ts";
import { readLines } from "./lines.ts";
import type { RowStream } from "./rows.ts";

export async function* readText(source: ByteSource, file: string, dataset: string): RowStream {
  let row = 0;
  for await (const { text, line } of readLines(source)) {
    if (text.trim() === "") {
      yield { kind: "bad", bad: { reason: "blank-line", detail: "blank line", source: { dataset, file, row: row + 1, line } } };
      continue;
    }
    row++;
    yield { kind: "row", value: { text }, source: { dataset, file, row, line } };
  }
}
