// Subprocess for test/ffi/blas-override.test.ts: loads lft (which picks the BLAS core), runs GEMMs at
// odd shapes against a float64 reference and prints the kernels used and the worst relative error.
import { blasInfo, ops, tensor, tidy } from "../../lft.ts";
import { relError } from "./compare.ts";
import { randomArray } from "./random.ts";

let worst = 0;
for (const [m, n, k] of [
  [1, 1, 1],
  [33, 17, 515],
  [128, 96, 64],
  [257, 3, 130],
] as const) {
  tidy(() => {
    const a = randomArray(m * k, m + k);
    const b = randomArray(k * n, n + k);
    const c = ops.matmul(tensor(a, [m, k]), tensor(b, [k, n])).toArray();
    const ref = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) ref[i * n + j]! += a[i * k + p]! * b[p * n + j]!;
    worst = Math.max(worst, relError(c, ref));
  });
}
const info = blasInfo();
console.log(JSON.stringify({ corename: info.corename, reason: info.reason, worstRelError: worst }));
