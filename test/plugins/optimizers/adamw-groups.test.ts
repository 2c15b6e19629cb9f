// AdamW over parameter groups: each group's lr multiplier and weight decay honoured exactly, and state
// export/import (what a checkpoint stores) continuing bit-identically, per-parameter steps included.
import { describe, expect, test } from "bun:test";
import { type Tensor, tensor, tidy } from "../../../core/index.ts";
import { AdamW } from "../../../plugins/optimizers/index.ts";
import { randomArray } from "../../helpers/random.ts";
import { setGrads } from "./set-grads.ts";

function step(params: Tensor[], seed: number): void {
  setGrads(
    params,
    params.map((p, i) => randomArray(p.numel, seed * 10 + i)),
  );
}

describe("AdamW over parameter groups", () => {
  test("AdamW applies each group's lr multiplier and weight decay", () => {
    // The same tensor trained alone with lr·s and decay wd must match its grouped twin exactly.
    const init = randomArray(6, 77);
    const grouped = [tensor(init, [6], { requiresGrad: true }), tensor(init, [6], { requiresGrad: true })];
    const alone = [tensor(init, [6], { requiresGrad: true }), tensor(init, [6], { requiresGrad: true })];
    const opt = new AdamW(
      [
        { params: [grouped[0]!], lrScale: 4, weightDecay: 0 },
        { params: [grouped[1]!], weightDecay: 0.3 },
      ],
      { lr: 0.01, weightDecay: 0.3 },
    );
    const ref0 = new AdamW([alone[0]!], { lr: 0.04, weightDecay: 0 });
    const ref1 = new AdamW([alone[1]!], { lr: 0.01, weightDecay: 0.3 });
    try {
      for (let s = 0; s < 4; s++) {
        tidy(() => {
          step(grouped, s);
          opt.update();
          opt.zeroGrad();
          step(alone, s);
          ref0.update();
          ref1.update();
          ref0.zeroGrad();
          ref1.zeroGrad();
        });
      }
      expect(Array.from(grouped[0]!.toArray())).toEqual(Array.from(alone[0]!.toArray()));
      expect(Array.from(grouped[1]!.toArray())).toEqual(Array.from(alone[1]!.toArray()));
      expect(Array.from(grouped[0]!.toArray())).not.toEqual(Array.from(grouped[1]!.toArray()));
    } finally {
      for (const o of [opt, ref0, ref1]) o.dispose();
      for (const t of [...grouped, ...alone]) t.dispose();
    }
  });

  test("AdamW state export/import continues bit-identically (moments and per-parameter steps)", () => {
    const init = [randomArray(5, 1), randomArray(3, 2)];
    const a = init.map((x) => tensor(x, [x.length], { requiresGrad: true }));
    const b = init.map((x) => tensor(x, [x.length], { requiresGrad: true }));
    const optA = new AdamW(a, { lr: 0.01, weightDecay: 0.1 });
    const optB = new AdamW(b, { lr: 0.01, weightDecay: 0.1 });
    try {
      // Parameter 1 skips step 1, so its own step count (1) differs from the optimizer's (2).
      tidy(() => {
        step([a[0]!], 1);
        optA.update();
        optA.zeroGrad();
      });
      tidy(() => {
        step(a, 2);
        optA.update();
        optA.zeroGrad();
      });
      const { meta, tensors } = optA.exportState();
      expect(meta.params).toEqual([
        { index: 0, step: 2 },
        { index: 1, step: 1 },
      ]);
      const host = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.toArray() as Float32Array }]));
      for (const [i, p] of a.entries()) b[i]!.backend.upload(b[i]!, p.toArray());
      optB.importState(meta, host)._unsafeUnwrap();
      for (let s = 3; s < 6; s++) {
        tidy(() => {
          step(a, s);
          optA.update();
          optA.zeroGrad();
        });
        tidy(() => {
          step(b, s);
          optB.update();
          optB.zeroGrad();
        });
      }
      for (const [i, p] of a.entries()) expect(Array.from(b[i]!.toArray())).toEqual(Array.from(p.toArray()));
      host.delete("1.exp_avg_sq");
      expect(optB.importState(meta, host)._unsafeUnwrapErr().message).toMatch(/missing tensor "1.exp_avg_sq"/);
    } finally {
      optA.dispose();
      optB.dispose();
      for (const t of [...a, ...b]) t.dispose();
    }
  });
});
