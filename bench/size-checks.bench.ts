// Cost of the size checks (issue 15): checkedNumel against the unchecked numel it replaced at tensor
// birth and at the native boundary, and a whole tiny kernel call (scale on [2, 8], where per-call
// overhead shows most) with the binding's checks. The ceiling is the unchecked numel in the same run.
// Run: node_modules/.bin/bun bench/size-checks.bench.ts
import { checkedNumel, cpuBackend, empty, numel, tensor } from "../lft.ts";
import { table, writeResults } from "./lib/results.ts";

const SHAPES = [[2, 8], [4, 128, 32, 64], [1], [32000, 4096]];

/** Best of `reps` timings of `n` calls, in ns per call. */
function bestNs(n: number, reps: number, fn: (i: number) => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < n; i++) fn(i);
    best = Math.min(best, (Bun.nanoseconds() - t0) / n);
  }
  return best;
}

let sink = 0;
const numelNs = bestNs(1_000_000, 7, (i) => {
  sink += numel(SHAPES[i & 3]!);
});
const checkedNs = bestNs(1_000_000, 7, (i) => {
  sink += checkedNumel(SHAPES[i & 3]!, "bench");
});
const x = tensor(new Array(16).fill(1), [2, 8]);
const out = empty([2, 8]);
const scaleNs = bestNs(200_000, 5, () => cpuBackend.scale(out, x, 2));
const emptyNs = bestNs(20_000, 5, () => empty([2, 8]).dispose());

const rows = [
  { what: "numel (unchecked, the ceiling)", ns_per_call: +numelNs.toFixed(1) },
  { what: "checkedNumel", ns_per_call: +checkedNs.toFixed(1) },
  { what: "cpuBackend.scale [2, 8] (checks + FFI)", ns_per_call: +scaleNs.toFixed(1) },
  { what: "empty([2, 8]).dispose()", ns_per_call: +emptyNs.toFixed(1) },
];
console.log(table(rows));
console.log(`(sink ${sink > 0})`);
console.log(writeResults("size-checks", { rows }));
