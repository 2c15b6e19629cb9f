// AdamW against a float64 transcription of torch.optim.AdamW (decoupled weight decay, bias correction,
// per-parameter step counts, parameters without a gradient skipped entirely), over 5 steps.
import { describe, expect, test } from "bun:test";
import { backward, ops, type Tensor, tensor, tidy } from "../../../core/index.ts";
import { AdamW, type AdamWOptions } from "../../../plugins/optimizers/index.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray } from "../../helpers/random.ts";

/** torch.optim.AdamW's single-tensor update (torch/optim/adamw.py, amsgrad=False, maximize=False), in f64. */
class RefAdamW {
  readonly m: Float64Array;
  readonly v: Float64Array;
  step = 0;
  constructor(readonly p: Float64Array) {
    this.m = new Float64Array(p.length);
    this.v = new Float64Array(p.length);
  }
  update(g: ArrayLike<number>, o: Required<AdamWOptions>): void {
    this.step++;
    const bc1 = 1 - o.beta1 ** this.step;
    const bc2 = 1 - o.beta2 ** this.step;
    const stepSize = o.lr / bc1;
    for (let i = 0; i < this.p.length; i++) {
      this.p[i]! *= 1 - o.lr * o.weightDecay;
      this.m[i] = o.beta1 * this.m[i]! + (1 - o.beta1) * g[i]!;
      this.v[i] = o.beta2 * this.v[i]! + (1 - o.beta2) * g[i]! * g[i]!;
      const denom = Math.sqrt(this.v[i]!) / Math.sqrt(bc2) + o.eps;
      this.p[i]! -= (stepSize * this.m[i]!) / denom;
    }
  }
}

const CONFIGS: Required<AdamWOptions>[] = [
  { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 },
  // A large eps and unusual betas, so eps and each beta visibly change the result.
  { lr: 3e-3, beta1: 0.8, beta2: 0.95, eps: 0.05, weightDecay: 0.5 },
];

const SHAPES = [[3, 4], [7], [1]];

describe("AdamW vs torch.optim.AdamW (f64 reference)", () => {
  for (const [ci, cfg] of CONFIGS.entries()) {
    test(`5 steps, config ${ci}: ${JSON.stringify(cfg)}`, () => {
      const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const init = SHAPES.map((s, i) => randomArray(n(s), 100 + i, -2, 2));
      const refs = init.map((p) => new RefAdamW(Float64Array.from(p)));
      const params: Tensor[] = SHAPES.map((s, i) => tensor(init[i]!, s, { requiresGrad: true, name: `p${i}` }));
      const opt = new AdamW(params, cfg);
      // Parameter 1 has no gradient at steps 2 and 3 (unused those steps): torch skips it entirely, neither
      // decaying it nor advancing its own step count, so its bias correction at step 4 uses t = 2.
      const skips = (step: number, i: number) => i === 1 && (step === 2 || step === 3);
      try {
        for (let step = 1; step <= 5; step++) {
          tidy(() => {
            // Gradients straight from backward: d/dp sum(p * g) = g, exact in f32.
            const grads = SHAPES.map((s, i) => randomArray(n(s), 1000 * step + i, -3, 3));
            const terms = params.flatMap((p, i) => (skips(step, i) ? [] : [ops.sum(ops.mul(p, tensor(grads[i]!, SHAPES[i]!)))]));
            backward(terms.reduce((a, b) => ops.add(a, b)));
            expect(params[1]!.grad === null).toBe(skips(step, 1));
            opt.update();
            opt.zeroGrad();
            refs.forEach((r, i) => {
              if (!skips(step, i)) r.update(grads[i]!, cfg);
            });
          });
          expect(opt.step).toBe(step);
          // Per element and step: a handful of f32 roundings (m, v, sqrt, divide, p), ~1e-7 relative to
          // |p| <= 2, compounding over 5 steps to well under 1e-6. Leaving out bias correction, weight
          // decay, eps (config 1: eps 0.05 vs sqrt(v) ~ 1) or the skip rule changes p by > 1e-4.
          for (const [i, p] of params.entries()) expectClose(p.toArray(), refs[i]!.p, 1e-6, `p${i} after step ${step}`);
        }
      } finally {
        opt.dispose();
        for (const p of params) p.dispose();
      }
    });
  }

  test("a parameter that never gets a gradient is left untouched, weight decay included", () => {
    const init = randomArray(5, 7);
    const frozen = tensor(init, [5], { requiresGrad: true });
    const live = tensor(init, [5], { requiresGrad: true });
    const opt = new AdamW([frozen, live], { lr: 0.1, weightDecay: 0.5 });
    try {
      for (let step = 0; step < 3; step++) {
        tidy(() => {
          backward(ops.sum(ops.scale(live, 0)));
          opt.update();
          opt.zeroGrad();
        });
      }
      expect(Array.from(frozen.toArray())).toEqual(Array.from(init));
      // Zero gradient: m = v = 0 and the update is 0 / (0 + eps), so only the decay acts: p * (1 - lr wd)^3.
      expectClose(
        live.toArray(),
        Array.from(init, (x) => x * 0.95 ** 3),
        1e-6,
        "decayed only",
      );
    } finally {
      opt.dispose();
      frozen.dispose();
      live.dispose();
    }
  });

  test("a changed lr (a scheduler's job) takes effect on the next step", () => {
    const p = tensor([1, -1], [2], { requiresGrad: true });
    const opt = new AdamW([p], { lr: 0.1 });
    try {
      tidy(() => {
        backward(ops.sum(ops.mul(p, tensor([1, 1], [2]))));
        opt.lr = 0.01;
        opt.update();
      });
      // Step 1 without decay moves each element by lr * sign(g) (m/bc1 = g, sqrt(v/bc2) = |g|), up to eps.
      expectClose(p.toArray(), [0.99, -1.01], 1e-6, "p");
    } finally {
      opt.dispose();
      p.dispose();
    }
  });

  test("non-finite hyperparameters are refused by name", () => {
    for (const bad of [{ lr: Number.NaN }, { lr: 1e-3, beta2: Number.POSITIVE_INFINITY }]) {
      const p = tensor([1], [1], { requiresGrad: true });
      const opt = new AdamW([p], bad as AdamWOptions);
      try {
        p.grad = tensor([1], [1]);
        expect(() => opt.update()).toThrow(/adamw: (lr|beta2) must be a finite number/);
      } finally {
        opt.dispose();
        p.grad?.dispose();
        p.dispose();
      }
    }
  });
});
