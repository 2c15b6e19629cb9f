// The KTO loss against a float64 reference written from the paper's formula on fixed log-probs, and
// its gradients against central finite differences of that reference.
import { describe, expect, test } from "bun:test";
import { klEstimate, ktoLoss } from "../../../../plugins/stages/index.ts";

const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe("kto loss matches the paper's value function", () => {
  // KTO (Ethayarajh et al.): z0 = max(0, E[log π/π_ref] on mismatched pairs); desirable
  // λ_D(1 − σ(β(r − z0))), undesirable λ_U(1 − σ(β(z0 − r))), r = log π/π_ref.
  const lp = {
    policy: [-10.2, -8.7, -15.1, -6.0],
    reference: [-10.9, -8.1, -14.0, -6.4],
    desirable: [true, false, true, false],
    policyKl: [-20.0, -18.5, -22.0, -19.0],
    referenceKl: [-20.6, -18.4, -22.9, -19.1],
  };
  const p = { beta: 0.5, desirableWeight: 1.3, undesirableWeight: 0.7 };
  const z0 = Math.max(0, (0.6 - 0.1 + 0.9 + 0.1) / 4);
  const ref = (pi: number, i: number) => {
    const r = pi - lp.reference[i]!;
    return lp.desirable[i] ? p.desirableWeight * (1 - sig(p.beta * (r - z0))) : p.undesirableWeight * (1 - sig(p.beta * (z0 - r)));
  };

  test("values and finite-difference gradients (the KL estimate is detached)", () => {
    const out = ktoLoss(lp, p);
    expect(out.kl).toBeCloseTo(z0, 12);
    lp.policy.forEach((pi, i) => {
      expect(out.losses[i]!).toBeCloseTo(ref(pi, i), 12);
      const fd = (ref(pi + 1e-6, i) - ref(pi - 1e-6, i)) / 2e-6;
      expect(out.dPolicy[i]!).toBeCloseTo(fd, 7);
      expect(Math.abs(out.dPolicy[i]!)).toBeGreaterThan(1e-3);
    });
  });

  test("the KL estimate is clamped at 0", () => {
    expect(klEstimate([-5, -6], [-4, -4])).toBe(0);
    expect(klEstimate([-3, -6], [-4, -4])).toBeCloseTo(0, 12);
    expect(klEstimate([-3], [-4])).toBe(1);
  });
});
