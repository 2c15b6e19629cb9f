// The CPU backend's one-pass cross-entropy (forward and backward per row, used by the fused output
// layer) against a float64 reference of the two formulas, written over its own logits and not, with
// ignored rows, a vocabulary off the vector width and large logits; and its argument checks.
import { describe, expect, test } from "bun:test";
import { cpuBackend, Tensor, tensor, tidy } from "../../../lft.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray, randomInts } from "../../helpers/random.ts";

/** loss, lse and dlogits in float64: lse = log sum exp z, loss = lse - z[t], d = g (softmax - onehot). */
function reference(z: Float64Array, t: number[], g: number[], rows: number, vocab: number, ignore: number) {
  const loss = new Float64Array(rows);
  const lse = new Float64Array(rows);
  const d = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    if (t[r] === ignore) continue;
    const row = z.subarray(r * vocab, (r + 1) * vocab);
    const max = Math.max(...row);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    lse[r] = max + Math.log(sum);
    loss[r] = lse[r]! - row[t[r]!]!;
    for (let v = 0; v < vocab; v++) d[r * vocab + v] = g[r]! * (Math.exp(row[v]! - lse[r]!) - (v === t[r] ? 1 : 0));
  }
  return { loss, lse, d };
}

describe("crossEntropyFused (CPU)", () => {
  const rows = 9;
  const vocab = 1037;
  const ignore = -100;
  const z = randomArray(rows * vocab, 5, -30, 30);
  const t = Array.from(randomInts(rows, 6, vocab), (x, r) => (r % 4 === 1 ? ignore : x));
  const g = Array.from(randomArray(rows, 7, 0.1, 2));
  const want = reference(z, t, g, rows, vocab, ignore);

  for (const inPlace of [false, true]) {
    test(inPlace ? "written over its logits" : "into a separate gradient", () => {
      tidy(() => {
        const logits = tensor(Float32Array.from(z), [rows, vocab]);
        const dlogits = inPlace ? logits : Tensor.alloc(cpuBackend, [rows, vocab], "f32");
        const loss = Tensor.alloc(cpuBackend, [rows], "f32");
        const lse = Tensor.alloc(cpuBackend, [rows], "f32");
        cpuBackend.crossEntropyFused!(loss, lse, dlogits, tensor(g, [rows]), logits, tensor(t, [rows], { dtype: "i32" }), ignore);
        expectClose(loss.toArray(), want.loss, 1e-6, "loss");
        expectClose(lse.toArray(), want.lse, 1e-6, "lse");
        expectClose(dlogits.toArray(), want.d, 1e-6, "dlogits");
        const d = dlogits.toArray();
        for (let r = 0; r < rows; r++) if (t[r] === ignore) expect(d.subarray(r * vocab, (r + 1) * vocab).every((x) => x === 0)).toBe(true);
      });
    });
  }

  test("bad shapes and out-of-range targets are refused before native code", () => {
    tidy(() => {
      const logits = tensor(Float32Array.from(z), [rows, vocab]);
      const f32 = (n: number) => Tensor.alloc(cpuBackend, [n], "f32");
      const ids = (xs: number[]) => tensor(xs, [xs.length], { dtype: "i32" });
      const grow = tensor(g, [rows]);
      expect(() => cpuBackend.crossEntropyFused!(f32(rows), f32(rows), logits, grow, logits, ids(t.slice(1)), ignore)).toThrow(/targets/);
      expect(() => cpuBackend.crossEntropyFused!(f32(rows), f32(rows), logits, f32(rows - 1), logits, ids(t), ignore)).toThrow(/row grads/);
      const bad = t.map((x, r) => (r === 3 ? vocab : x));
      expect(() => cpuBackend.crossEntropyFused!(f32(rows), f32(rows), logits, grow, logits, ids(bad), ignore)).toThrow(/target/);
    });
  });
});
