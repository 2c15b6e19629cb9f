// Gradient checks: central finite differences of a float64 reference function, compared with the
// kernel's analytic gradient. Using the f64 reference (not the f32 kernel) for the differences keeps
// the truncation/rounding error near 1e-8, so a tight tolerance catches real backward bugs.

/** d(sum(f(x) * proj))/dx by central differences, for one input among several. */
export function numericGrad(f: (inputs: Float64Array[]) => ArrayLike<number>, inputs: Float64Array[], which: number, proj: ArrayLike<number>, h = 1e-6): Float64Array {
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
