// Gradient checks: central finite differences of a float64 reference function, compared with the
// kernel's analytic gradient. Using the f64 reference (not the f32 kernel) for the differences keeps
// the truncation/rounding error near 1e-8, so a tight tolerance catches real backward bugs.

/** d(sum(f(x) * proj))/dx by central differences, for one input among several. */
export function numericGrad(
  f: (inputs: Float64Array[]) => ArrayLike<number>,
  inputs: Float64Array[],
  which: number,
  proj: ArrayLike<number>,
  h = 1e-6,
): Float64Array {
  const x = inputs[which]!;
  const grad = new Float64Array(x.length);
  const loss = (): number => {
    const y = f(inputs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * proj[i]!;
    return s;
  };
  for (let i = 0; i < x.length; i++) {
    const keep = x[i]!;
    x[i] = keep + h;
    const up = loss();
    x[i] = keep - h;
    const down = loss();
    x[i] = keep;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/**
 * Central differences for a row-wise f: perturbing x[r, c] changes only output row r, so only that row is
 * recomputed. With every > 1 only columns c % every == 0 and the last are differenced (wide rows).
 */
export function rowwiseGrad(
  fRow: (row: Float64Array) => Float64Array,
  x: Float64Array,
  cols: number,
  proj: ArrayLike<number>,
  every = 1,
  h = 1e-6,
): { idx: number[]; grad: Float64Array } {
  const idx: number[] = [];
  const grad: number[] = [];
  for (let r = 0; r < x.length / cols; r++) {
    const row = x.slice(r * cols, (r + 1) * cols);
    const loss = (): number => {
      const y = fRow(row);
      let s = 0;
      for (let c = 0; c < cols; c++) s += y[c]! * proj[r * cols + c]!;
      return s;
    };
    for (let c = 0; c < cols; c++) {
      if (c % every !== 0 && c !== cols - 1) continue;
      const keep = row[c]!;
      row[c] = keep + h;
      const up = loss();
      row[c] = keep - h;
      const down = loss();
      row[c] = keep;
      idx.push(r * cols + c);
      grad.push((up - down) / (2 * h));
    }
  }
  return { idx, grad: Float64Array.from(grad) };
}
