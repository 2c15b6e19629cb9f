// SGD with momentum against a float64 transcription of torch.optim.SGD (coupled weight decay,
// dampening, Nesterov), over 6 steps; and its state surviving an export/import round trip.
import { describe, expect, test } from "bun:test";
import { tensor, tidy } from "../../../core/index.ts";
import { SGD, type SGDOptions } from "../../../plugins/optimizers/index.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray } from "../../helpers/random.ts";
import { setGrads } from "./set-grads.ts";

/** torch/optim/sgd.py _single_tensor_sgd (maximize=False), in f64. */
class RefSGD {
  buf: Float64Array | null = null;
  constructor(readonly p: Float64Array) {}
  update(g: ArrayLike<number>, o: Required<SGDOptions>): void {
    const d = Float64Array.from(g, (gi, i) => gi + o.weightDecay * this.p[i]!);
    if (o.momentum !== 0) {
      if (!this.buf) this.buf = Float64Array.from(d);
      else for (let i = 0; i < d.length; i++) this.buf[i] = o.momentum * this.buf[i]! + (1 - o.dampening) * d[i]!;
      if (o.nesterov) for (let i = 0; i < d.length; i++) d[i] = d[i]! + o.momentum * this.buf[i]!;
      else d.set(this.buf);
    }
    for (let i = 0; i < d.length; i++) this.p[i] = this.p[i]! - o.lr * d[i]!;
  }
}

const CONFIGS: Required<SGDOptions>[] = [
  { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 },
  { lr: 0.05, momentum: 0.8, dampening: 0.3, nesterov: false, weightDecay: 0.2 },
  { lr: 0.05, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.1 },
  { lr: 0.2, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.5 },
];

describe("SGD vs torch.optim.SGD (f64 reference)", () => {
  for (const [ci, cfg] of CONFIGS.entries()) {
    test(`6 steps, config ${ci}: ${JSON.stringify(cfg)}`, () => {
      const sizes = [12, 5];
      const init = sizes.map((n, i) => randomArray(n, 300 + i, -2, 2));
      const refs = init.map((p) => new RefSGD(Float64Array.from(p)));
      const params = sizes.map((n, i) => tensor(init[i]!, [n], { requiresGrad: true }));
      const opt = new SGD(params, cfg);
      try {
        for (let step = 1; step <= 6; step++) {
          const grads = sizes.map((n, i) => randomArray(n, 50 * step + i, -3, 3));
          tidy(() => {
            setGrads(params, grads);
            opt.update();
            opt.zeroGrad();
          });
          for (const [i, r] of refs.entries()) r.update(grads[i]!, cfg);
          // A few f32 roundings per element and step on values of order 1-10, compounding over 6 steps.
          // Dropping dampening, the Nesterov term or weight decay moves p by > 1e-3.
          for (const [i, p] of params.entries()) expectClose(p.toArray(), refs[i]!.p, 2e-6, `config ${ci} p${i} step ${step}`);
        }
      } finally {
        opt.dispose();
        for (const p of params) p.dispose();
      }
    });
  }

  test("the gradient is left as backward wrote it (weight decay and Nesterov work on a copy)", () => {
    const p = tensor([1, 2, 3], [3], { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.5 });
    try {
      tidy(() => {
        setGrads([p], [Float64Array.from([1, -1, 0.5])]);
        opt.update();
        expect(Array.from(p.grad!.toArray())).toEqual([1, -1, 0.5]);
        opt.zeroGrad();
      });
    } finally {
      opt.dispose();
      p.dispose();
    }
  });

  test("exported state restores into a fresh optimizer and continues identically", () => {
    const cfg = { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 };
    const init = randomArray(8, 9);
    const a = tensor(init, [8], { requiresGrad: true });
    const b = tensor(init, [8], { requiresGrad: true });
    const optA = new SGD([a], cfg);
    const optB = new SGD([b], cfg);
    try {
      const g = (s: number) => randomArray(8, 700 + s, -1, 1);
      for (let s = 0; s < 3; s++)
        tidy(() => {
          setGrads([a], [g(s)]);
          optA.update();
          optA.zeroGrad();
        });
      const { meta, tensors } = optA.exportState();
      const host = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.toArray() as Float32Array }]));
      b.backend.upload(b, a.toArray());
      expect(optB.importState(JSON.parse(JSON.stringify(meta)), host).isOk()).toBe(true);
      expect(optB.step).toBe(3);
      for (let s = 3; s < 6; s++) {
        tidy(() => {
          setGrads([a], [g(s)]);
          optA.update();
          optA.zeroGrad();
        });
        tidy(() => {
          setGrads([b], [g(s)]);
          optB.update();
          optB.zeroGrad();
        });
      }
      expect(Array.from(b.toArray())).toEqual(Array.from(a.toArray()));
      // Another optimizer's state, or state for other shapes, is refused by name.
      expect(optB.importState({ ...meta, kind: "adamw" }, host)._unsafeUnwrapErr().message).toMatch(/saved by "adamw" but this run uses "sgd"/);
      const wrong = new Map([["0.momentum_buffer", { shape: [4], data: new Float32Array(4) }]]);
      expect(optB.importState(meta, wrong)._unsafeUnwrapErr().message).toMatch(/has shape \[4\] but parameter .* is \[8\]/);
    } finally {
      optA.dispose();
      optB.dispose();
      a.dispose();
      b.dispose();
    }
  });
});
