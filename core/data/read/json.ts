// A .json file as Hugging Face's `json` loader reads it: a top-level array of rows, an object of
// equal-length column lists, or JSON Lines under a .json name. Arrays are parsed whole (use JSONL to
// stream files larger than memory), so a file over the size limit is refused before it is read.
import { statSync } from "node:fs";
import { locateJsonError } from "../../io/json-locate.ts";
import type { RowSource } from "../types.ts";
import { readJsonl } from "./jsonl.ts";
import { DEFAULT_READ_LIMITS, type ReadLimits } from "./limits.ts";
import type { ByteSource } from "./lines.ts";
import { invalidUtf8Note, type ReadItem, type RowStream } from "./rows.ts";
import { countReplaced, invalidUtf8In } from "./utf8.ts";

/** Why a .json file of `size` bytes is not parsed whole, or undefined when it may be. */
export function jsonTooLarge(size: number, limit: number): string | undefined {
  if (size <= limit) return undefined;
  return `the file is ${size} bytes, over the ${limit}-byte limit for a .json file (it is parsed whole); convert it to JSON Lines (.jsonl, one row per line, read as a stream), or raise max_json_bytes`;
}

export async function* readJson(
  path: string,
  file: string,
  dataset: string,
  open: (p: string) => ByteSource,
  limits: ReadLimits = DEFAULT_READ_LIMITS,
): RowStream {
  const tooLarge = jsonTooLarge(statSync(path).size, limits.maxJsonBytes);
  if (tooLarge !== undefined) {
    yield { kind: "bad", bad: { reason: "oversized", detail: tooLarge, source: { dataset, file, row: 0 } } };
    return;
  }
  const bytes = await Bun.file(path).bytes();
  const text = new TextDecoder("utf-8").decode(bytes);
  let invalid = invalidUtf8In(text, bytes);
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // Rows are yielded with a note first when their strings hold replaced bytes (given out in order).
  function* rowOf(value: unknown, source: RowSource): Generator<ReadItem> {
    if (invalid > 0) {
      const n = Math.min(invalid, countReplaced(JSON.stringify(value) ?? ""));
      invalid -= n;
      if (n > 0) yield invalidUtf8Note(n, source);
    }
    yield { kind: "row", value, source };
  }
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
    for (let i = 0; i < rows.length; i++) yield* rowOf(rows[i], { dataset, file, row: i + 1 });
    return;
  }
  // An object: either the first line of JSON Lines, or one object of column lists.
  let whole: unknown;
  try {
    whole = JSON.parse(body);
  } catch {
    yield* readJsonl(open(path), file, dataset, limits.maxRowChars);
    return;
  }
  const columns = asColumnLists(whole);
  if (columns === null) {
    yield* rowOf(whole, { dataset, file, row: 1 });
    return;
  }
  const names = Object.keys(columns);
  const n = names.length === 0 ? 0 : columns[names[0]!]!.length;
  for (let i = 0; i < n; i++) {
    yield* rowOf(Object.fromEntries(names.map((k) => [k, columns[k]![i]])), { dataset, file, row: i + 1 });
  }
}

function asColumnLists(v: unknown): Record<string, unknown[]> | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const lists = Object.values(v);
  if (lists.length === 0 || !lists.every(Array.isArray)) return null;
  const n = (lists[0] as unknown[]).length;
  return lists.every((l) => (l as unknown[]).length === n) ? (v as Record<string, unknown[]>) : null;
}
