// LLaMA-Factory's greedy_knapsack for packing: lengths sorted ascending, each bin filled by
// repeatedly taking the largest length that still fits (binary search), until none fits.

/** Bins of lengths (each bin's sum <= capacity), in LLaMA-Factory's order. */
export function greedyKnapsack(lengths: readonly number[], capacity: number): number[][] {
  const numbers = [...lengths].sort((a, b) => a - b);
  const bins: number[][] = [];
  while (numbers.length > 0) {
    const bin: number[] = [];
    let remaining = capacity;
    for (;;) {
      const index = bisectRight(numbers, remaining) - 1;
      if (index < 0) break;
      remaining -= numbers[index]!;
      bin.push(numbers.splice(index, 1)[0]!);
    }
    // A length above capacity fits nowhere; the caller drops such samples before packing.
    if (bin.length === 0) break;
    bins.push(bin);
  }
  return bins;
}

function bisectRight(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x < xs[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
