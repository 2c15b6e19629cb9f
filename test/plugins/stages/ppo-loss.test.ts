// PPO's arithmetic against float64 references written from trl 0.9's formulas (vectorised over the
// whole [rows, gen_len] response block, as trl computes them, rather than per masked position as lft
// does): GAE + whitening, the per-token rewards, the clipped policy and value losses with gradients by
// central finite differences, the op's backward through autograd, the KL controller and score moments.
import { expect, test } from "bun:test";
import { backward, tensor } from "../../../core/index.ts";
import {
  freshMoments,
  gae,
  maskedWhiten,
  normaliseScores,
  type PpoTokens,
  ppoObjective,
  ppoTerms,
  tokenRewards,
  updatedKlCoef,
} from "../../../plugins/stages/index.ts";

/** A seeded uniform stream for fixtures. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

// rows of [prompt pad | prompt | response | response pad]: flat over [R, T]; responses start at P.
const R = 3;
const T = 9;
const P = 3;
const LENS = [5, 3, 6];
function responseMask(): Uint8Array {
  const m = new Uint8Array(R * T);
  for (let b = 0; b < R; b++) for (let k = 0; k < LENS[b]!; k++) m[b * T + P - 1 + k] = 1;
  return m;
}

/** trl: whiten over all masked entries (unbiased variance), optionally keeping the mean. */
function refWhiten(x: number[], m: Uint8Array, shift = true): number[] {
  const idx = x.map((_, i) => i).filter((i) => m[i]);
  const mean = idx.reduce((a, i) => a + x[i]!, 0) / idx.length;
  const v = idx.reduce((a, i) => a + (x[i]! - mean) ** 2, 0) / (idx.length - 1);
  return x.map((xi, i) => (m[i] ? (xi - mean) / Math.sqrt(v + 1e-8) + (shift ? 0 : mean) : 0));
}

/** trl's compute_advantages on the response block [R, G] (G = T − P + 1 columns), values and rewards zeroed off the mask. */
function refGae(rewards: number[], values: number[], m: Uint8Array, gamma: number, lam: number, whitenRewards: boolean) {
  const r0 = rewards.map((x, i) => (m[i] ? x : 0));
  const v = values.map((x, i) => (m[i] ? x : 0));
  const r = whitenRewards ? refWhiten(r0, m, false) : r0;
  const G = T - (P - 1);
  const adv = new Array(R * T).fill(0);
  const ret = new Array(R * T).fill(0);
  for (let b = 0; b < R; b++) {
    let last = 0;
    for (let t = G - 1; t >= 0; t--) {
      const i = b * T + P - 1 + t;
      const next = t < G - 1 ? v[i + 1]! : 0;
      const delta = r[i]! + gamma * next - v[i]!;
      last = delta + gamma * lam * last;
      adv[i] = last;
    }
  }
  for (let i = 0; i < R * T; i++) ret[i] = adv[i]! + v[i]!;
  return { advantages: refWhiten(adv, m), returns: ret };
}

test("GAE, returns and whitening equal trl's compute_advantages (float64, with and without whitened rewards)", () => {
  const u = rng(11);
  const m = responseMask();
  const rewards = Array.from({ length: R * T }, () => u() * 2 - 1);
  const values = Array.from({ length: R * T }, () => u() * 2 - 1);
  for (const [gamma, lam, wr] of [
    [1, 0.95, false],
    [0.9, 0.8, true],
  ] as const) {
    const got = gae(R, T, m, rewards, values, gamma, lam, wr);
    const want = refGae(rewards, values, m, gamma, lam, wr);
    for (let i = 0; i < R * T; i++) {
      if (!m[i]) continue;
      expect(Math.abs(got.advantages[i]! - want.advantages[i]!)).toBeLessThan(1e-12);
      expect(Math.abs(got.returns[i]! - want.returns[i]!)).toBeLessThan(1e-12);
    }
  }
  // A hand case: one row of two tokens, gamma 1, lam 1, no whitening of the raw advantages' meaning:
  // raw A_1 = r_1 − v_1, A_0 = r_0 + v_1 − v_0 + A_1 (then whitened over the two).
  const mm = Uint8Array.from([1, 1]);
  const g = gae(1, 2, mm, [0.5, 2], [0.25, 1], 1, 1, false);
  expect(g.returns[1]).toBeCloseTo(2, 12);
  expect(g.returns[0]).toBeCloseTo(0.5 + 1 - 0.25 + 1 + 0.25, 12);
  expect(Array.from(maskedWhiten([1, 3], mm))).toEqual(refWhiten([1, 3], mm));
});

test("per-token rewards: −β·(logp − ref) on every response token, the score added on the last", () => {
  const m = responseMask();
  const u = rng(5);
  const logps = Array.from({ length: R * T }, () => -u() * 3);
  const ref = Array.from({ length: R * T }, () => -u() * 3);
  const scores = [1.5, -0.5, 2];
  const { rewards, klPerRow } = tokenRewards(R, T, m, logps, ref, scores, 0.2);
  for (let b = 0; b < R; b++) {
    const last = b * T + P - 1 + LENS[b]! - 1;
    let kl = 0;
    for (let i = b * T; i < (b + 1) * T; i++) {
      const want = m[i] ? -0.2 * (logps[i]! - ref[i]!) + (i === last ? scores[b]! : 0) : 0;
      expect(Math.abs(rewards[i]! - want)).toBeLessThan(1e-12);
      if (m[i]) kl += logps[i]! - ref[i]!;
    }
    expect(Math.abs(klPerRow[b]! - kl)).toBeLessThan(1e-12);
  }
});

/** trl's PPOTrainer.loss in float64, vectorised. */
function refLoss(logps: number[], values: number[], t: PpoTokens, cr: number, crv: number, vfc: number): number {
  const idx = logps.map((_, i) => i).filter((i) => t.mask[i]);
  const n = idx.length;
  const clip = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
  const vf =
    (0.5 / n) *
    idx.reduce((a, i) => {
      const vc = clip(values[i]!, t.oldValues[i]! - crv, t.oldValues[i]! + crv);
      return a + Math.max((values[i]! - t.returns[i]!) ** 2, (vc - t.returns[i]!) ** 2);
    }, 0);
  const pg =
    (1 / n) *
    idx.reduce((a, i) => {
      const ratio = Math.exp(logps[i]! - t.oldLogps[i]!);
      const A = t.advantages[i]!;
      return a + Math.max(-A * ratio, -A * clip(ratio, 1 - cr, 1 + cr));
    }, 0);
  return pg + vfc * vf;
}

function lossFixture(seed: number) {
  const u = rng(seed);
  const mask = responseMask();
  const oldLogps = Array.from({ length: R * T }, () => -u() * 4);
  const oldValues = Array.from({ length: R * T }, () => u() * 2 - 1);
  // Ratios from e^-0.6 to e^0.6 and value moves of ±0.6 around the old ones: both clips are hit.
  const logps = oldLogps.map((x) => x + (u() - 0.5) * 1.2);
  const values = oldValues.map((x) => x + (u() - 0.5) * 1.2);
  const tokens: PpoTokens = {
    mask,
    oldLogps,
    oldValues,
    advantages: Array.from({ length: R * T }, () => u() * 2 - 1),
    returns: Array.from({ length: R * T }, () => u() * 2 - 1),
  };
  return { logps, values, tokens };
}

test("the clipped policy + value loss equals trl's formula and its gradient matches central finite differences", () => {
  const s = { cliprange: 0.2, cliprangeValue: 0.2, vfCoef: 0.1 };
  for (const seed of [1, 2, 3]) {
    const { logps, values, tokens } = lossFixture(seed);
    const terms = ppoTerms(logps, values, tokens, s);
    const want = refLoss(logps, values, tokens, s.cliprange, s.cliprangeValue, s.vfCoef);
    expect(Math.abs(terms.loss - want)).toBeLessThan(1e-12);
    expect(terms.policyClipfrac).toBeGreaterThan(0);
    expect(terms.valueClipfrac).toBeGreaterThan(0);
    const h = 1e-6;
    for (let i = 0; i < logps.length; i++) {
      for (const [x, grad] of [
        [logps, terms.gradLogps],
        [values, terms.gradValues],
      ] as const) {
        const up = [...x];
        const down = [...x];
        up[i]! += h;
        down[i]! -= h;
        const f = (v: number[]) => (x === logps ? refLoss(v, values, tokens, 0.2, 0.2, 0.1) : refLoss(logps, v, tokens, 0.2, 0.2, 0.1));
        const fd = (f(up) - f(down)) / (2 * h);
        expect(Math.abs(fd - grad[i]!)).toBeLessThan(1e-7);
      }
    }
  }
});

test("the autograd op returns the loss and backpropagates the same gradients to log-probs and values", () => {
  const { logps, values, tokens } = lossFixture(4);
  const s = { cliprange: 0.2, cliprangeValue: 0.2, vfCoef: 0.5 };
  const x = tensor(Float32Array.from(logps), [logps.length], { requiresGrad: true });
  const v = tensor(Float32Array.from(values), [values.length], { requiresGrad: true });
  const loss = ppoObjective(x, v, tokens, s);
  const terms = ppoTerms(x.toArray(), v.toArray(), tokens, s);
  expect(Math.abs(loss.item() - terms.loss)).toBeLessThan(1e-6);
  backward(loss);
  const gx = x.grad!.toArray();
  const gv = v.grad!.toArray();
  for (let i = 0; i < gx.length; i++) {
    expect(Math.abs(gx[i]! - terms.gradLogps[i]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(terms.gradLogps[i]!)));
    expect(Math.abs(gv[i]! - terms.gradValues[i]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(terms.gradValues[i]!)));
  }
});

test("the adaptive KL controller moves by the clipped proportional error; the fixed one stays", () => {
  expect(updatedKlCoef(0.2, true, 12, 6, 10000, 16)).toBeCloseTo(0.2 * (1 + (0.2 * 16) / 10000), 15);
  expect(updatedKlCoef(0.2, true, 5.4, 6, 100, 10)).toBeCloseTo(0.2 * (1 + (-0.1 * 10) / 100), 15);
  expect(updatedKlCoef(0.2, false, 12, 6, 100, 10)).toBe(0.2);
});

test("score normalisation keeps running moments of every score seen (trl's RunningMoments)", () => {
  const m = freshMoments();
  const a = [1, 2, 4, 7];
  const b = [0, -3, 5];
  normaliseScores(m, a);
  const out = normaliseScores(m, b);
  const all = [...a, ...b];
  const mean = all.reduce((x, y) => x + y, 0) / all.length;
  const std = Math.sqrt(all.reduce((x, y) => x + (y - mean) ** 2, 0) / (all.length - 1));
  expect(m.mean).toBeCloseTo(mean, 10);
  expect(m.std).toBeCloseTo(std, 10);
  b.forEach((x, i) => {
    expect(out[i]!).toBeCloseTo((x - mean) / (std + 1.1920928955078125e-7), 10);
  });
});
