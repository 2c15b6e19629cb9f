// Shape arithmetic and the shape errors every op reports in the same words. Sizes are checked where
// tensors are born: every dim a non-negative safe integer, and element and byte counts kept at or
// below 2^53 - 1 (each partial product checked before it is used), so every count is an exact number
// and fits C's int64.
export type Shape = readonly number[];

/** The largest element or byte count lft handles: 2^53 - 1 (an exact JS number, far inside int64/size_t). */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export class ShapeError extends Error {
  override name = "ShapeError";
}

/**
 * Whether a · b (non-negative safe integers) is at most 2^53 - 1. The float product decides exactly: a true
 * product <= 2^53 - 1 is computed exactly, and one >= 2^53 rounds to >= 2^53 (rounding is monotone and
 * 2^53 is representable), so no rounded product is ever used as a count. (A bound by division,
 * `a > MAX / b`, can round the wrong way near 2^53.)
 */
function fits(a: number, b: number): boolean {
  return a * b <= MAX_COUNT;
}

/** a · b for non-negative safe integers, or throws (naming `what`) when the product would pass 2^53 - 1. */
export function checkedMul(a: number, b: number, what: string): number {
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0 || b < 0 || !fits(a, b)) {
    throw new ShapeError(`${what}: ${a} × ${b} is more than 2^53 - 1, the largest size lft can count exactly; use smaller sizes`);
  }
  return a * b;
}

function describeDim(d: unknown): string {
  return typeof d === "number" ? String(d) : `${typeof d} ${String(d)}`;
}

/** Element count of a shape, after checking every dim is a non-negative safe integer and the product stays <= 2^53 - 1. */
export function checkedNumel(shape: Shape, what: string): number {
  if (!Array.isArray(shape)) throw new ShapeError(`${what}: a shape must be an array of dimensions, got ${describeDim(shape)}`);
  // One pass: each dim checked, then multiplied only after the bound is checked. The product of the
  // non-zero dims is bounded too: a zero-element [0, 2^40, 2^40] would still hand a kernel a row count
  // past 2^53 (rows = product of the leading dims).
  let n = 1;
  let zero = false;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new ShapeError(
        `${what}: shape [${shape.map(describeDim).join(", ")}] has a dimension that is not a non-negative integer (dimension ${i} is ${describeDim(d)}; dimensions must be integers from 0 to 2^53 - 1)`,
      );
    }
    if (d === 0) zero = true;
    else if (!fits(n, d)) {
      throw new ShapeError(
        `${what}: the dimensions of shape ${formatShape(shape)} multiply to more than 2^53 - 1, more than any machine can hold; check the sizes`,
      );
    } else n *= d;
  }
  return zero ? 0 : n;
}

/** Byte count of a shape at `bytesPerElement`, checked like checkedNumel (the product too). */
export function checkedBytes(shape: Shape, bytesPerElement: number, what: string): number {
  const count = checkedNumel(shape, what);
  if (!fits(count, bytesPerElement)) {
    throw new ShapeError(`${what}: shape ${formatShape(shape)} needs ${count} × ${bytesPerElement} bytes, more than 2^53 - 1; check the sizes`);
  }
  return count * bytesPerElement;
}

/** Throws unless every dim is a non-negative safe integer and the element count is at most 2^53 - 1. */
export function checkShape(shape: Shape, what: string): void {
  checkedNumel(shape, what);
}

/** Normalises a possibly negative axis against ndim; throws with the valid range when out of range. */
export function normAxis(axis: number, ndim: number, what: string): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim) {
    throw new ShapeError(`${what}: axis ${axis} is out of range for a tensor of rank ${ndim} (valid: ${-ndim}..${ndim - 1})`);
  }
  return a;
}

/** True when `small` equals the trailing dims of `big` (it broadcasts over big's leading dims). */
export function isSuffixShape(big: Shape, small: Shape): boolean {
  if (small.length > big.length) return false;
  const off = big.length - small.length;
  return small.every((d, i) => d === big[off + i]);
}
