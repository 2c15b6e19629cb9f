// Writes a safetensors file byte-for-byte as the reference implementation does: tensors ordered by dtype
// width (widest first) then name, offsets contiguous, compact JSON header padded with spaces to 8 bytes.
// The file appears atomically (temp file + rename).
import { err, ok, type Result } from "neverthrow";
import type { Shape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import { CheckpointError } from "./errors.ts";
import { dtypeRank, isSafetensorsDType, type SafetensorsDType, safetensorsDTypeOf, storedByteLength } from "./safetensors-dtype.ts";
import { METADATA_KEY } from "./safetensors-header.ts";

export type SafetensorsEntry =
  | { name: string; dtype: SafetensorsDType; shape: Shape; data: Uint8Array }
  /** dtype and shape default to the tensor's; a given shape must hold as many elements. */
  | { name: string; data: Tensor; dtype?: SafetensorsDType; shape?: Shape };

export interface PreparedEntry {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly byteLength: number;
  /** The bytes to store (downloads a Tensor when called). */
  readonly bytes: () => Uint8Array;
}

const encoder = new TextEncoder();

/** Orders strings by their UTF-8 bytes (= code points), as Rust and Python sort them. */
export function byUtf8(a: string, b: string): number {
  return Buffer.compare(encoder.encode(a), encoder.encode(b));
}

function prepareOne(file: string, e: SafetensorsEntry): Result<PreparedEntry, CheckpointError> {
  const fail = (detail: string) => err(new CheckpointError(file, detail, e.name));
  if (typeof e.name !== "string") return err(new CheckpointError(file, `a tensor name must be a string, got ${typeof e.name}`));
  if (e.name === METADATA_KEY) return fail(`"${METADATA_KEY}" is reserved for the file's metadata`);
  if (e.data instanceof Tensor) {
    const t = e.data;
    if (t.disposed) return fail("the tensor was disposed before it was written");
    const dtype = safetensorsDTypeOf(t.dtype);
    if (e.dtype !== undefined && e.dtype !== dtype) return fail(`dtype ${e.dtype} was given, but the tensor holds ${t.dtype} (stored as ${dtype})`);
    const shape = e.shape ?? t.shape;
    const byteLength = storedByteLength(dtype, shape);
    if (typeof byteLength === "string") return fail(byteLength);
    if (byteLength !== t.bytes) return fail(`shape [${shape.join(", ")}] does not hold the tensor's ${t.numel} elements (shape [${t.shape.join(", ")}])`);
    const bytes = () => {
      const h = t.toHost();
      return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    };
    return ok({ name: e.name, dtype, shape: [...shape], byteLength, bytes });
  }
  if (!isSafetensorsDType(e.dtype)) return fail(`unknown dtype ${JSON.stringify(e.dtype)}`);
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    return fail(`shape must be a list of non-negative integers, got ${JSON.stringify(e.shape)}`);
  }
  const byteLength = storedByteLength(e.dtype, e.shape);
  if (typeof byteLength === "string") return fail(byteLength);
  if (!(e.data instanceof Uint8Array)) return fail("data must be a Uint8Array or a Tensor");
  if (e.data.byteLength !== byteLength) {
    return fail(`data has ${e.data.byteLength} bytes, but ${e.dtype} with shape [${e.shape.join(", ")}] needs ${byteLength}`);
  }
  const data = e.data;
  return ok({ name: e.name, dtype: e.dtype, shape: [...e.shape], byteLength, bytes: () => data });
}

/** Validates the entries and puts them in the order they are stored. */
export function prepareEntries(file: string, entries: readonly SafetensorsEntry[]): Result<PreparedEntry[], CheckpointError> {
  const out: PreparedEntry[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const p = prepareOne(file, e);
    if (p.isErr()) return err(p.error);
    if (seen.has(p.value.name)) return err(new CheckpointError(file, "is listed twice; names must be unique", p.value.name));
    seen.add(p.value.name);
    out.push(p.value);
  }
  return ok(out.sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || byUtf8(a.name, b.name)));
}

/** The header (without its 8-byte length) for entries already in stored order. */
export function headerBytes(entries: readonly PreparedEntry[], metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const parts: string[] = [];
  const keys = Object.keys(metadata).sort(byUtf8);
  if (keys.length > 0) parts.push(`"${METADATA_KEY}":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(",")}}`);
  let offset = 0;
  for (const e of entries) {
    parts.push(`${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(",")}],"data_offsets":[${offset},${offset + e.byteLength}]}`);
    offset += e.byteLength;
  }
  const json = encoder.encode(`{${parts.join(",")}}`);
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  return padded;
}

/**
 * Writes `entries` to `path` (metadata: string to string, omitted when empty). Returns the file's size.
 */
export function writeSafetensors(
  path: string,
  entries: readonly SafetensorsEntry[],
  metadata: Readonly<Record<string, string>> = {},
): Result<number, CheckpointError> {
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") return err(new CheckpointError(path, `metadata value of "${k}" must be a string, got ${typeof v}`));
  }
  return prepareEntries(path, entries).andThen((prepared) =>
    writeFileAtomic(path, (put) => {
      const header = headerBytes(prepared, metadata);
      const length = new Uint8Array(8);
      new DataView(length.buffer).setBigUint64(0, BigInt(header.length), true);
      put(length);
      put(header);
      for (const e of prepared) if (e.byteLength > 0) put(e.bytes());
    }),
  );
}
