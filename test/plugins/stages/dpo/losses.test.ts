// Each DPO-family loss against a float64 reference written from its paper's formula on fixed
// log-probs, and its gradients against central finite differences of that reference.
import { describe, expect, test } from "bun:test";
import { bcoBatchReward, type DpoLossName, type DpoParams, pairLoss } from "../../../../plugins/stages/index.ts";

const ls = (x: number) => -Math.log(1 + Math.exp(-x)); // log σ(x), plain (the inputs stay small)

// One pair: policy chosen c, rejected r, reference rc, rr.
type Ref = (c: number, r: number, rc: number, rr: number, p: DpoParams) => number;
const reference: Record<DpoLossName, Ref> = {
  // DPO (Rafailov et al.), with conservative label smoothing ε (Mitchell's cDPO, TRL's label_smoothing).
  sigmoid: (c, r, rc, rr, p) => {
    const h = p.beta * (c - rc - (r - rr));
    return -(1 - p.labelSmoothing) * ls(h) - p.labelSmoothing * ls(-h);
  },
  // SLiC hinge on the DPO logits.
  hinge: (c, r, rc, rr, p) => Math.max(0, 1 - p.beta * (c - rc - (r - rr))),
  // IPO (Azar et al.): (log-ratio difference − 1/(2τ))².
  ipo: (c, r, rc, rr, p) => (c - rc - (r - rr) - 1 / (2 * p.beta)) ** 2,
  // ORPO (Hong et al.): NLL of the chosen + λ·(−log σ(log(odds_c / odds_r))), odds = p / (1 − p).
  orpo: (c, r, _rc, _rr, p) => {
    const odds = (lp: number) => Math.exp(lp) / (1 - Math.exp(lp));
    return -c - p.beta * ls(Math.log(odds(c) / odds(r)));
  },
  // SimPO (Meng et al.): −log σ(β·avg_c − β·avg_r − γ).
  simpo: (c, r, _rc, _rr, p) => -ls(p.beta * c - p.beta * r - p.simpoGamma),
  // BCO on pairs: −log σ(r_c − δ) − log σ(−(r_r − δ)), r = β·log(π/π_ref).
  bco_pair: (c, r, rc, rr, p) => -ls(p.beta * (c - rc) - p.bcoDelta) - ls(-(p.beta * (r - rr) - p.bcoDelta)),
};

// Averaged-per-token log-probs (negative, above −1 so ORPO's odds stay sane) and summed ones.
const avg = { chosen: [-0.7, -1.2, -0.4], rejected: [-0.9, -0.8, -1.5], refChosen: [-0.8, -1.0, -0.6], refRejected: [-0.85, -0.9, -1.2] };
const sums = { chosen: [-12.5, -30.1, -8.2], rejected: [-14.0, -25.3, -19.9], refChosen: [-13.1, -29.0, -10.5], refRejected: [-13.5, -26.7, -17.0] };
const params: DpoParams = { beta: 0.3, labelSmoothing: 0.1, simpoGamma: 0.5, bcoDelta: 0.07 };

describe("dpo family losses match their papers' formulas", () => {
  for (const name of Object.keys(reference) as DpoLossName[]) {
    test(`${name}: values and finite-difference gradients`, () => {
      const lp = name === "ipo" || name === "orpo" || name === "simpo" ? avg : sums;
      const out = pairLoss[name](lp, params);
      const h = 1e-6;
      lp.chosen.forEach((c, i) => {
        const r = lp.rejected[i]!;
        const rc = lp.refChosen[i]!;
        const rr = lp.refRejected[i]!;
        const f = reference[name];
        expect(out.losses[i]!).toBeCloseTo(f(c, r, rc, rr, params), 10);
        const dc = (f(c + h, r, rc, rr, params) - f(c - h, r, rc, rr, params)) / (2 * h);
        const dr = (f(c, r + h, rc, rr, params) - f(c, r - h, rc, rr, params)) / (2 * h);
        expect(out.dChosen[i]!).toBeCloseTo(dc, 6);
        expect(out.dRejected[i]!).toBeCloseTo(dr, 6);
      });
      // The losses are not all flat: each has some gradient on these inputs.
      expect(out.dChosen.some((g) => Math.abs(g) > 1e-3)).toBe(true);
    });
  }

  test("hinge is zero past the margin, with zero gradient", () => {
    const out = pairLoss.hinge({ chosen: [0], rejected: [-20], refChosen: [0], refRejected: [0] }, params);
    expect([out.losses[0], out.dChosen[0], out.dRejected[0]]).toEqual([0, 0, -0]);
  });

  test("rewards: β·log-ratio with a reference, β·log-prob without (orpo, simpo)", () => {
    const dpo = pairLoss.sigmoid(sums, params);
    expect(dpo.chosenRewards[0]!).toBeCloseTo(0.3 * (-12.5 + 13.1), 12);
    expect(dpo.rejectedRewards[1]!).toBeCloseTo(0.3 * (-25.3 + 26.7), 12);
    const simpo = pairLoss.simpo(avg, params);
    expect(simpo.chosenRewards[2]!).toBeCloseTo(0.3 * -0.4, 12);
  });

  test("bco_pair's baseline sample is the mean of the chosen and rejected rewards", () => {
    const all = [0, 1, 2].flatMap((i) => [0.3 * (sums.chosen[i]! - sums.refChosen[i]!), 0.3 * (sums.rejected[i]! - sums.refRejected[i]!)]);
    expect(bcoBatchReward(sums, 0.3)).toBeCloseTo(all.reduce((a, b) => a + b, 0) / 6, 12);
  });

  test("a loss with a reference refuses log-probs without one", () => {
    expect(() => pairLoss.sigmoid({ chosen: [-1], rejected: [-2] }, params)).toThrow("needs the reference model's log-probs");
  });
});
