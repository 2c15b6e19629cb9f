// Parses and checks a safetensors JSON header: every entry's dtype, shape and byte range, and that the
// ranges tile the data buffer exactly (no gaps, no overlaps, nothing past the end), as the format requires.
import { err, ok, type Result } from "neverthrow";
import { CheckpointError } from "./errors.ts";
import { describeJson, isPlainObject } from "./json.ts";
import { locateJsonError } from "./json-locate.ts";
import { isSafetensorsDType, SAFETENSORS_DTYPES, type SafetensorsDType, storedByteLength } from "./safetensors-dtype.ts";

export interface TensorInfo {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly byteLength: number;
}

export interface HeaderEntry extends TensorInfo {
  readonly name: string;
  /** Byte range relative to the start of the data buffer (just after the header). */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** Entries in data-buffer order. */
  readonly entries: readonly HeaderEntry[];
  readonly metadata: Readonly<Record<string, string>>;
}

export const METADATA_KEY = "__metadata__";

/** Top-level keys of a valid JSON object text in order, duplicates included (JSON.parse keeps the last). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === "{" || c === "[") {
      depth++;
      expectKey = depth === 1 && c === "{";
    } else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
  }
  return keys;
}

/** A found shape or offsets for a message: a flat list as written (cut short), anything else described; JSON.stringify of a deeply nested list would overflow the stack. */
function showFound(v: unknown): string {
  if (!Array.isArray(v) || !v.every((x) => x === null || typeof x !== "object")) return describeJson(v);
  const text = JSON.stringify(v);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

const isIndex = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function parseEntry(file: string, name: string, v: unknown, dataLength: number): Result<HeaderEntry, CheckpointError> {
  const bad = (detail: string) => err(new CheckpointError(file, detail, name));
  if (!isPlainObject(v)) return bad(`header entry must be an object with dtype, shape and data_offsets, found ${describeJson(v)}`);
  for (const key of ["dtype", "shape", "data_offsets"]) if (!(key in v)) return bad(`header entry has no "${key}"`);
  const { dtype, shape, data_offsets: offsets } = v;
  if (!isSafetensorsDType(dtype)) return bad(`unknown dtype ${describeJson(dtype)} (known: ${SAFETENSORS_DTYPES.join(", ")})`);
  if (!Array.isArray(shape) || !shape.every(isIndex)) return bad(`shape must be a list of non-negative integers, found ${showFound(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    return bad(`data_offsets must be [begin, end] with non-negative integers, found ${showFound(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) return bad(`data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    return bad(`data_offsets [${begin}, ${end}] reach past the end of the data buffer (${dataLength} bytes after the header; is the file truncated?)`);
  }
  const byteLength = storedByteLength(dtype, shape);
  if (typeof byteLength === "string") return bad(byteLength);
  if (end - begin !== byteLength) {
    return bad(`data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${dtype} with shape [${shape.join(", ")}] needs ${byteLength}`);
  }
  return ok({ name, dtype, shape, byteLength, begin, end });
}

/** Checks that the entries, sorted by offset, cover [0, dataLength) exactly once. */
function checkCoverage(file: string, entries: HeaderEntry[], dataLength: number): Result<void, CheckpointError> {
  let prev: HeaderEntry | undefined;
  for (const e of entries) {
    const at = prev?.end ?? 0;
    if (e.begin > at) {
      const after = prev ? `after tensor "${prev.name}"` : "at the start of the data buffer";
      return err(new CheckpointError(file, `bytes [${at}, ${e.begin}) ${after} belong to no tensor (the format allows no gaps)`, e.name));
    }
    if (e.begin < at) {
      return err(new CheckpointError(file, `data_offsets [${e.begin}, ${e.end}] overlap tensor "${prev!.name}" at [${prev!.begin}, ${prev!.end}]`, e.name));
    }
    prev = e;
  }
  const end = prev?.end ?? 0;
  if (end !== dataLength) {
    return err(
      new CheckpointError(
        file,
        `the last ${dataLength - end} bytes of the data buffer belong to no tensor (tensors end at ${end}, the buffer holds ${dataLength})`,
      ),
    );
  }
  return ok(undefined);
}

/** Parses the header bytes; `dataLength` is the size of the file after the header. */
export function parseSafetensorsHeader(file: string, headerBytes: Uint8Array, dataLength: number): Result<SafetensorsHeader, CheckpointError> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    return err(new CheckpointError(file, "the header is not valid UTF-8 (is this a safetensors file?)"));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const at = locateJsonError(text);
    const why = at ? `${at.message} at header byte ${new TextEncoder().encode(text.slice(0, at.offset)).length}` : (e as Error).message;
    return err(new CheckpointError(file, `the header is not valid JSON: ${why} (is this a safetensors file?)`));
  }
  if (!isPlainObject(parsed)) return err(new CheckpointError(file, `the header must be a JSON object, found ${describeJson(parsed)}`));

  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) {
      if (key === METADATA_KEY) return err(new CheckpointError(file, `the header has "${METADATA_KEY}" twice`));
      return err(new CheckpointError(file, "the header lists this tensor twice (names must be unique)", key));
    }
    seen.add(key);
  }

  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, v] of Object.entries(parsed)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(v)) return err(new CheckpointError(file, `"${METADATA_KEY}" must be an object of strings, found ${describeJson(v)}`));
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== "string") return err(new CheckpointError(file, `"${METADATA_KEY}" value of "${k}" must be a string, found ${describeJson(s)}`));
      }
      // fromEntries defines own properties, so even a "__proto__" key is kept as data.
      metadata = Object.fromEntries(Object.entries(v)) as Record<string, string>;
      continue;
    }
    const entry = parseEntry(file, name, v, dataLength);
    if (entry.isErr()) return err(entry.error);
    entries.push(entry.value);
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  return checkCoverage(file, entries, dataLength).map(() => ({ entries, metadata }));
}
