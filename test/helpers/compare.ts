// Comparisons used by the kernel tests: the largest error relative to the reference's scale, with NaN
// and Inf never passing.
import { expect } from "bun:test";

/** max |a-b| / max(max|b|, floor): relative to the reference's overall magnitude. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-6): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let scale = floor;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    if (!Number.isFinite(a)) return Number.POSITIVE_INFINITY;
    worst = Math.max(worst, Math.abs(a - expected[i]!));
  }
  return worst / scale;
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = "values"): void {
  const err = relError(actual, expected);
  if (!(err <= tol)) throw new Error(`${what}: relative error ${err.toExponential(3)} exceeds ${tol}`);
  expect(err).toBeLessThanOrEqual(tol);
}
