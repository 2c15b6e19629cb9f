// The GRPO loss against a float64 reference written from the formula (DeepSeekMath eq. 3 with TRL's
// normalisations), on fixed log-probs, advantages, old-policy and reference log-probs; its gradient
// against central finite differences; and through autograd (the op's backward is the same gradient).
import { expect, test } from "bun:test";
import { backward, tensor } from "../../../core/index.ts";
import { type GrpoLossType, type GrpoTokens, groupAdvantages, grpoObjective, grpoTerms } from "../../../plugins/stages/index.ts";

/** A deterministic pseudo-random stream in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ROWS = 4;
const T = 6;

function fixture(seed: number): { logps: Float64Array; tokens: GrpoTokens } {
  const r = lcg(seed);
  const n = ROWS * T;
  const mask = new Uint8Array(n);
  // Row b has 2 + b completion tokens starting at position 1.
  for (let b = 0; b < ROWS; b++) for (let t = 1; t < 3 + b && t < T; t++) mask[b * T + t] = 1;
  const logps = Float64Array.from({ length: n }, () => -0.2 - 2 * r());
  // Old log-probs near the current ones, some far enough to be clipped (|Δ| up to 0.5 vs ε = 0.2).
  const oldLogps = Float32Array.from(logps, (v) => v + (r() - 0.5));
  const refLogps = Float32Array.from(logps, (v) => v + 0.6 * (r() - 0.5));
  // The op reads f32 log-probs; keep the fixture exactly representable.
  for (let i = 0; i < n; i++) logps[i] = Math.fround(logps[i]!);
  const advantages = groupAdvantages([1, 0, 0, 1], 2);
  return { logps, tokens: { rows: ROWS, seqLen: T, mask, oldLogps, refLogps, advantages } };
}

/** The formula, row by row in float64. */
function reference(logps: ArrayLike<number>, t: GrpoTokens, beta: number, eps: number, type: GrpoLossType, maxLen: number): number {
  const rowLosses: number[] = [];
  const rowCounts: number[] = [];
  for (let b = 0; b < t.rows; b++) {
    let sum = 0;
    let count = 0;
    for (let k = 0; k < t.seqLen; k++) {
      const i = b * t.seqLen + k;
      if (t.mask[i] !== 1) continue;
      const ratio = Math.exp(logps[i]! - t.oldLogps![i]!);
      const surrogate = Math.min(ratio * t.advantages[b]!, Math.min(Math.max(ratio, 1 - eps), 1 + eps) * t.advantages[b]!);
      const kl = Math.exp(t.refLogps![i]! - logps[i]!) - (t.refLogps![i]! - logps[i]!) - 1;
      sum += -(surrogate - beta * kl);
      count++;
    }
    rowLosses.push(sum);
    rowCounts.push(count);
  }
  const total = rowCounts.reduce((a, b) => a + b, 0);
  if (type === "grpo") return rowLosses.reduce((a, l, b) => a + l / rowCounts[b]!, 0) / t.rows;
  if (type === "bnpo") return rowLosses.reduce((a, b) => a + b, 0) / total;
  return rowLosses.reduce((a, b) => a + b, 0) / (t.rows * maxLen);
}

test("group advantages are (r − group mean) / (unbiased group std + 1e-4)", () => {
  const a = groupAdvantages([1, 0, 0, 0, 2, 2, 2, 2], 4);
  // Group 1: mean 0.25, unbiased std 0.5.
  expect(a[0]).toBeCloseTo(0.75 / 0.5001, 12);
  expect(a[1]).toBeCloseTo(-0.25 / 0.5001, 12);
  // A group whose rewards are all equal has no signal.
  expect([...a.slice(4)]).toEqual([0, 0, 0, 0]);
  expect([...groupAdvantages([3, 1], 2, false)]).toEqual([1, -1]);
});

for (const type of ["grpo", "bnpo", "dr_grpo"] as const) {
  test(`grpo loss (${type}) matches the float64 formula, and its gradient matches finite differences`, () => {
    const { logps, tokens } = fixture(11);
    const s = { beta: 0.04, epsilonLow: 0.2, epsilonHigh: 0.2, lossType: type, maxCompletionLength: 8 };
    const terms = grpoTerms(logps, tokens, s);
    // Same float64 arithmetic in another order: agreement to 1e-12 relative.
    const want = reference(logps, tokens, 0.04, 0.2, type, 8);
    expect(Math.abs(terms.loss - want)).toBeLessThan(1e-12 * Math.max(1, Math.abs(want)));
    // Some tokens are clipped in this fixture, so the zero-gradient branch is exercised.
    expect(terms.clipRatio).toBeGreaterThan(0);
    const h = 1e-6;
    for (let i = 0; i < logps.length; i++) {
      const plus = Float64Array.from(logps);
      const minus = Float64Array.from(logps);
      plus[i]! += h;
      minus[i]! -= h;
      const fd = (reference(plus, tokens, 0.04, 0.2, type, 8) - reference(minus, tokens, 0.04, 0.2, type, 8)) / (2 * h);
      // Central differences in float64 with h = 1e-6: error ~1e-9 away from the clip kinks (none within h here).
      expect(Math.abs(terms.grad[i]! - fd)).toBeLessThan(1e-7);
    }
  });
}

test("with one update per rollout the ratio is 1: the loss is the KL term and the gradient is −A/|o| + β·(1 − e^{ref−logp})", () => {
  const { logps, tokens } = fixture(5);
  const onPolicy = { ...tokens, oldLogps: null };
  const terms = grpoTerms(logps, onPolicy, { beta: 0.1, epsilonLow: 0.2, epsilonHigh: 0.2, lossType: "bnpo", maxCompletionLength: 8 });
  let total = 0;
  let kl = 0;
  for (let i = 0; i < logps.length; i++) {
    if (!tokens.mask[i]) continue;
    total++;
    const d = tokens.refLogps![i]! - logps[i]!;
    kl += Math.exp(d) - d - 1;
  }
  expect(terms.kl).toBeCloseTo(kl / total, 12);
  // Σ over tokens of −A is 0 only when rows are equally long; here the loss is −Σ A_b n_b / N + β KL.
  let surrogate = 0;
  for (let b = 0; b < ROWS; b++) surrogate -= tokens.advantages[b]! * Math.min(2 + b, T - 1);
  expect(terms.loss).toBeCloseTo(surrogate / total + (0.1 * kl) / total, 12);
  expect(terms.clipRatio).toBe(0);
});

test("the autograd op returns the loss and backpropagates the same gradient", () => {
  const { logps, tokens } = fixture(3);
  const s = { beta: 0.04, epsilonLow: 0.2, epsilonHigh: 0.28, lossType: "grpo" as const, maxCompletionLength: 8 };
  const x = tensor(Float32Array.from(logps), [logps.length], { requiresGrad: true });
  const loss = grpoObjective(x, tokens, s);
  const terms = grpoTerms(logps, tokens, s);
  expect(loss.shape).toEqual([]);
  expect(Math.abs(loss.item() - terms.loss)).toBeLessThan(1e-6);
  backward(loss);
  const g = x.grad!.toArray();
  // f32 storage of an f64 gradient: relative 1e-6.
  for (let i = 0; i < g.length; i++) expect(Math.abs(g[i]! - terms.grad[i]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(terms.grad[i]!)));
});
