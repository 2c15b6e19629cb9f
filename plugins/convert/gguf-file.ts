// GGUF v3 files as llama.cpp's gguf-py writes them: header, typed key/value metadata, tensor infos
// (dims innermost first), padding to the alignment, then each tensor's bytes at an aligned offset.
import { err, ok, type Result } from "neverthrow";
import { type CheckpointError, writeFileAtomic } from "../../core/index.ts";

export const GGUF_ALIGNMENT = 32;

/** ggml tensor types this writer produces (ggml.h numbering). */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8 } as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** gguf value types (gguf.h numbering). */
const ValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

/** A metadata value with its gguf type spelled out (JavaScript numbers do not say which integer they are). */
export type GgufValue =
  | { type: "u32" | "i32" | "f32" | "u64"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: readonly string[] }
  | { type: "f32[]" | "i32[]"; value: ArrayLike<number> };

export const u32 = (value: number): GgufValue => ({ type: "u32", value });
export const i32 = (value: number): GgufValue => ({ type: "i32", value });
export const f32 = (value: number): GgufValue => ({ type: "f32", value });
export const str = (value: string): GgufValue => ({ type: "string", value });
export const bool = (value: boolean): GgufValue => ({ type: "bool", value });

export interface GgufTensor {
  name: string;
  /** Row-major shape as in the checkpoint ([rows, cols]); written reversed, as ggml's ne. */
  shape: readonly number[];
  type: GgmlType;
  /** The encoded bytes; produced when the tensor is written, so only one is held at a time. */
  data: () => Uint8Array;
  /** Byte length the data will have (known before encoding, for the offsets). */
  byteLength: number;
}

const UTF8 = new TextEncoder();

/** Growable little-endian byte buffer for the header part. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.room(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  f32(v: number): void {
    this.room(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number): void {
    this.room(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  string(s: string): void {
    const bytes = UTF8.encode(s);
    this.u64(bytes.length);
    this.room(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    this.room(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Scalar value types: their gguf code and how one value is written. */
const SCALARS = {
  u32: [ValueType.UINT32, (o: ByteSink, v: number) => o.u32(v)],
  i32: [ValueType.INT32, (o: ByteSink, v: number) => o.i32(v)],
  f32: [ValueType.FLOAT32, (o: ByteSink, v: number) => o.f32(v)],
  u64: [ValueType.UINT64, (o: ByteSink, v: number) => o.u64(v)],
} as const;

function writeValue(out: ByteSink, v: GgufValue): void {
  if (v.type === "bool") {
    out.u32(ValueType.BOOL);
    out.u8(v.value ? 1 : 0);
  } else if (v.type === "string") {
    out.u32(ValueType.STRING);
    out.string(v.value);
  } else if (v.type === "string[]") {
    out.u32(ValueType.ARRAY);
    out.u32(ValueType.STRING);
    out.u64(v.value.length);
    for (const s of v.value) out.string(s);
  } else if (v.type === "f32[]" || v.type === "i32[]") {
    const [code, put] = SCALARS[v.type === "f32[]" ? "f32" : "i32"];
    out.u32(ValueType.ARRAY);
    out.u32(code);
    out.u64(v.value.length);
    for (let i = 0; i < v.value.length; i++) put(out, v.value[i]!);
  } else {
    const [code, put] = SCALARS[v.type];
    out.u32(code);
    put(out, v.value as number);
  }
}

const padTo = (n: number, a: number) => n + ((a - (n % a)) % a);

/** The header, metadata and tensor infos (padded), and each tensor's offset in the data section. */
export function ggufHeader(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): Uint8Array {
  const out = new ByteSink();
  out.u32(0x46554747); // "GGUF" read as a little-endian u32
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.size);
  for (const [key, value] of metadata) {
    out.string(key);
    writeValue(out, value);
  }
  let offset = 0;
  for (const t of tensors) {
    out.string(t.name);
    out.u32(t.shape.length);
    for (let d = t.shape.length - 1; d >= 0; d--) out.u64(t.shape[d]!);
    out.u32(t.type);
    out.u64(offset);
    offset = padTo(offset + t.byteLength, GGUF_ALIGNMENT);
  }
  out.pad(GGUF_ALIGNMENT);
  return out.bytes();
}

/** Writes the file atomically (temp file + rename); returns its size in bytes. */
export function writeGguf(path: string, metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): Result<number, CheckpointError | Error> {
  const zeros = new Uint8Array(GGUF_ALIGNMENT);
  let problem: Error | null = null;
  const written = writeFileAtomic(path, (put) => {
    put(ggufHeader(metadata, tensors));
    for (const t of tensors) {
      const bytes = t.data();
      if (bytes.length !== t.byteLength) {
        problem = new Error(`${t.name}: encoded ${bytes.length} bytes, expected ${t.byteLength}`);
        throw problem;
      }
      put(bytes);
      const pad = (GGUF_ALIGNMENT - (bytes.length % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
      if (pad) put(zeros.subarray(0, pad));
    }
  });
  if (problem) return err(problem);
  return written.isErr() ? err(written.error) : ok(written.value);
}
