// Shape arithmetic and the shape errors every op reports in the same words.
export type Shape = readonly number[];

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

/** Throws unless every dim is a non-negative integer. */
export function checkShape(shape: Shape, what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${what}: shape ${formatShape(shape)} has a dimension that is not a non-negative integer`);
    }
  }
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
