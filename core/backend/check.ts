// Validation at the native boundary: every binding calls these before it hands a pointer to native
// code, so kernels never see a disposed buffer, a wrong dtype, a size that does not match, a count
// past 2^53 - 1 or a missing address.
import type { DType } from "../tensor/dtype.ts";
import { checkedNumel, formatShape, numel, type Shape, ShapeError, sameShape } from "../tensor/shape.ts";

/** What a kernel needs from a tensor: its address, dtype, shape and whether it is still alive. */
export interface NativeArray {
  readonly ptr: number;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly disposed: boolean;
  readonly name?: string;
}

export class DTypeError extends Error {
  override name = "DTypeError";
}

export class DisposedError extends Error {
  override name = "DisposedError";
}

export class IndexError extends Error {
  override name = "IndexError";
}

function label(t: NativeArray, role: string): string {
  return t.name ? `${role} (${t.name})` : role;
}

/** Checks liveness, a valid shape with memory behind it, and dtype; `shape` (when given) must match exactly. */
export function expectArray(op: string, role: string, t: NativeArray, dtype: DType | readonly DType[], shape?: Shape): void {
  if (t.disposed) throw new DisposedError(`${op}: ${label(t, role)} was disposed before use`);
  const count = checkedNumel(t.shape, `${op}: ${label(t, role)}`);
  if (count > 0 && !(Number.isSafeInteger(t.ptr) && t.ptr > 0)) {
    throw new RangeError(`${op}: ${label(t, role)} ${formatShape(t.shape)} has no memory behind it (address ${t.ptr})`);
  }
  const ok = typeof dtype === "string" ? t.dtype === dtype : dtype.includes(t.dtype);
  if (!ok) {
    const want = typeof dtype === "string" ? dtype : dtype.join(" or ");
    throw new DTypeError(`${op}: ${label(t, role)} must be ${want}, got ${t.dtype}`);
  }
  if (shape && !sameShape(t.shape, shape)) {
    throw new ShapeError(`${op}: ${label(t, role)} must have shape ${formatShape(shape)}, got ${formatShape(t.shape)}`);
  }
}

export function expectNumel(op: string, role: string, t: NativeArray, n: number): void {
  const got = numel(t.shape);
  if (got !== n) throw new ShapeError(`${op}: ${label(t, role)} must have ${n} elements, got ${got} (shape ${formatShape(t.shape)})`);
}

export function expectRank(op: string, role: string, t: NativeArray, rank: number | readonly number[]): void {
  const ok = typeof rank === "number" ? t.shape.length === rank : rank.includes(t.shape.length);
  if (!ok) {
    const want = typeof rank === "number" ? rank : rank.join(" or ");
    throw new ShapeError(`${op}: ${label(t, role)} must have rank ${want}, got shape ${formatShape(t.shape)}`);
  }
}

export function expectDim(op: string, what: string, got: number, want: number): void {
  if (got !== want) throw new ShapeError(`${op}: ${what} must be ${want}, got ${got}`);
}

/** [rows, cols] of a tensor viewed as a matrix over its last dim. */
export function rowsCols(shape: Shape): [number, number] {
  if (shape.length === 0) return [1, 1];
  return [numel(shape.slice(0, -1)), shape[shape.length - 1]!];
}

/** A count or offset handed to native code: an integer from `min` to 2^53 - 1. */
export function expectCount(op: string, what: string, v: number, min = 0): void {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${op}: ${what} must be an integer from ${min} to 2^53 - 1, got ${v}`);
}

/** A value native code takes as a 32-bit signed integer. */
export function expectInt32(op: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new RangeError(`${op}: ${what} must be a 32-bit integer, got ${v}`);
}

export function expectFinite(op: string, what: string, v: number): void {
  if (!Number.isFinite(v)) throw new RangeError(`${op}: ${what} must be a finite number, got ${v}`);
}

/** Scans int32 indices for values outside [0, limit) (skipping `skip`); reports the first bad position. */
export function expectIndices(op: string, what: string, ids: Int32Array, limit: number, skip?: number): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if ((id < 0 || id >= limit) && id !== skip) {
      throw new IndexError(`${op}: ${what}[${i}] = ${id} is out of range [0, ${limit})${skip === undefined ? "" : ` and is not the ignore index ${skip}`}`);
    }
  }
}
