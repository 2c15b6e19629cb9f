// Kernel arguments for cuLaunchKernel: packs typed values (device pointers, i32/u32, i64/u64, f32/f64 and
// by-value structs) into one buffer and builds the `void **kernelParams` array that points at each value.
// Values sit at the offsets the compiler gives the kernel's parameters (natural alignment, as in a C
// struct), so the same buffer would also serve CU_LAUNCH_PARAM_BUFFER_POINTER; test/cuda checks these
// offsets against the ones nvcc recorded in the fatbin.

export type ScalarArgType = "ptr" | "i32" | "u32" | "i64" | "u64" | "f32" | "f64";
/** A struct passed by value: its bytes are copied as given. */
export interface StructArgType {
  readonly struct: number;
  readonly align: number;
}
export type ArgType = ScalarArgType | StructArgType;
/** ptr: a device address (0 = NULL); i64/u64: a safe integer or a bigint; struct: exactly its bytes. */
export type ArgValue = number | bigint | Uint8Array;

const SCALAR_SIZE: Record<ScalarArgType, number> = { ptr: 8, i32: 4, u32: 4, i64: 8, u64: 8, f32: 4, f64: 8 };

export function argSize(t: ArgType): number {
  return typeof t === "string" ? SCALAR_SIZE[t] : t.struct;
}

export function argAlign(t: ArgType): number {
  return typeof t === "string" ? SCALAR_SIZE[t] : t.align;
}

export function describeArgType(t: ArgType): string {
  return typeof t === "string" ? t : `struct(${t.struct} bytes, align ${t.align})`;
}

export interface ArgLayout {
  /** Byte offset of each value. */
  readonly offsets: readonly number[];
  readonly sizes: readonly number[];
  /** Bytes of the values, rounded up to 8 so the pointer array that follows is aligned. */
  readonly valueBytes: number;
  /** valueBytes + 8 per argument (the kernelParams array). */
  readonly totalBytes: number;
}

const align = (x: number, a: number) => Math.ceil(x / a) * a;

export function layoutArgs(types: readonly ArgType[]): ArgLayout {
  const offsets: number[] = [];
  const sizes: number[] = [];
  let at = 0;
  for (const t of types) {
    const a = argAlign(t);
    if (!(a === 1 || a === 2 || a === 4 || a === 8 || a === 16)) throw new RangeError(`kernel argument alignment must be 1, 2, 4, 8 or 16, got ${a}`);
    at = align(at, a);
    offsets.push(at);
    sizes.push(argSize(t));
    at += argSize(t);
  }
  const valueBytes = align(at, 8);
  return { offsets, sizes, valueBytes, totalBytes: valueBytes + 8 * types.length };
}

export class KernelArgError extends Error {
  override name = "KernelArgError";
}

const I32_MIN = -(2 ** 31);
const U32_MAX = 2 ** 32 - 1;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

function int64Of(kernel: string, i: number, v: ArgValue, signed: boolean): bigint {
  let b: bigint;
  if (typeof v === "bigint") b = v;
  else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
  else throw new KernelArgError(`${kernel}: argument ${i} must be a safe integer or a bigint, got ${String(v)}`);
  if (signed ? b < I64_MIN || b > I64_MAX : b < 0n || b > U64_MAX) {
    throw new KernelArgError(`${kernel}: argument ${i} = ${b} is out of range for ${signed ? "i64" : "u64"}`);
  }
  return b;
}

/**
 * Writes the values into `buf` (at least layout.totalBytes long) and the kernelParams array after them:
 * entry i is `base + offset_i`, where `base` is the address of buf[0]. Returns the byte offset of the
 * kernelParams array within buf.
 */
export function encodeArgs(
  kernel: string,
  types: readonly ArgType[],
  values: readonly ArgValue[],
  buf: Uint8Array,
  base: bigint,
  layout = layoutArgs(types),
): number {
  if (values.length !== types.length) {
    throw new KernelArgError(`${kernel}: expected ${types.length} arguments (${types.map(describeArgType).join(", ")}), got ${values.length}`);
  }
  if (buf.byteLength < layout.totalBytes)
    throw new KernelArgError(`${kernel}: argument buffer of ${buf.byteLength} bytes is smaller than the ${layout.totalBytes} needed`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    const v = values[i]!;
    const at = layout.offsets[i]!;
    if (typeof t !== "string") {
      if (!(v instanceof Uint8Array) || v.byteLength !== t.struct) {
        throw new KernelArgError(`${kernel}: argument ${i} must be a ${t.struct}-byte Uint8Array (struct by value)`);
      }
      buf.set(v, at);
      continue;
    }
    if (v instanceof Uint8Array) throw new KernelArgError(`${kernel}: argument ${i} is a ${t}, got bytes`);
    switch (t) {
      case "ptr":
      case "u64":
        dv.setBigUint64(at, int64Of(kernel, i, v, false), true);
        break;
      case "i64":
        dv.setBigInt64(at, int64Of(kernel, i, v, true), true);
        break;
      case "i32":
      case "u32": {
        const x = typeof v === "bigint" ? Number(v) : v;
        const [lo, hi] = t === "i32" ? [I32_MIN, 2 ** 31 - 1] : [0, U32_MAX];
        if (!Number.isInteger(x) || x < lo || x > hi) throw new KernelArgError(`${kernel}: argument ${i} = ${String(v)} is not a valid ${t}`);
        if (t === "i32") dv.setInt32(at, x, true);
        else dv.setUint32(at, x, true);
        break;
      }
      case "f32":
      case "f64": {
        if (typeof v !== "number") throw new KernelArgError(`${kernel}: argument ${i} must be a number (${t}), got a bigint`);
        if (t === "f32") dv.setFloat32(at, v, true);
        else dv.setFloat64(at, v, true);
        break;
      }
    }
  }
  for (let i = 0; i < types.length; i++) dv.setBigUint64(layout.valueBytes + 8 * i, base + BigInt(layout.offsets[i]!), true);
  return layout.valueBytes;
}
