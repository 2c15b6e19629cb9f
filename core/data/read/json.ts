// A .json file as Hugging Face's `json` loader reads it: a top-level array of rows, an object of
// equal-length column lists, or JSON Lines under a .json name. Arrays are parsed whole (use JSONL to
// stream files larger than memory).

import { locateJsonError } from "../../io/json-locate.ts";
import { readJsonl } from "./jsonl.ts";
import type { ByteSource } from "./lines.ts";
import type { RowStream } from "./rows.ts";

export async function* readJson(path: string, file: string, dataset: string, open: (p: string) => ByteSource): RowStream {
  const text = await Bun.file(path).text();
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const first = body.trimStart()[0];
  if (first === "[") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      // Row 0: the whole file; the line and column say where the JSON breaks.
      const at = locateJsonError(body);
      const detail = at ? `not valid JSON: ${at.message} at column ${at.col}` : `not valid JSON: ${(e as Error).message}`;
      yield { kind: "bad", bad: { reason: "unparsable", detail, source: at ? { dataset, file, row: 0, line: at.line } : { dataset, file, row: 0 } } };
      return;
    }
    const rows = parsed as unknown[];
    for (let i = 0; i < rows.length; i++) yield { kind: "row", value: rows[i], source: { dataset, file, row: i + 1 } };
    return;
  }
  // An object: either the first line of JSON Lines, or one object of column lists.
  let whole: unknown;
  try {
    whole = JSON.parse(body);
  } catch {
    yield* readJsonl(open(path), file, dataset);
    return;
  }
  const columns = asColumnLists(whole);
  if (columns === null) {
    yield { kind: "row", value: whole, source: { dataset, file, row: 1 } };
    return;
  }
  const names = Object.keys(columns);
  const n = names.length === 0 ? 0 : columns[names[0]!]!.length;
  for (let i = 0; i < n; i++) {
    yield { kind: "row", value: Object.fromEntries(names.map((k) => [k, columns[k]![i]])), source: { dataset, file, row: i + 1 } };
  }
}

function asColumnLists(v: unknown): Record<string, unknown[]> | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const lists = Object.values(v);
  if (lists.length === 0 || !lists.every(Array.isArray)) return null;
  const n = (lists[0] as unknown[]).length;
  return lists.every((l) => (l as unknown[]).length === n) ? (v as Record<string, unknown[]>) : null;
}
