// Parameter groups: no-decay exclusions for norms and biases, per-group lr multipliers (LoRA+ style),
// and AdamW honouring both; AdamW state export/import continuing bit-identically.
import { describe, expect, test } from "bun:test";
import { AdamW, type Tensor, backward, buildGroups, createOptimizer, ops, tensor, tidy } from "../../../core/index.ts";
import { randomArray } from "../../helpers/random.ts";

function named(): Record<string, Tensor> {
  const t = (n: number[], seed: number, name: string) => tensor(randomArray(n.reduce((a, b) => a * b, 1), seed), n, { requiresGrad: true, name });
  return {
    "layers.0.attn.q_proj.weight": t([4, 4], 1, "q"),
    "layers.0.attn.q_proj.bias": t([4], 2, "qb"),
    "layers.0.input_layernorm.weight": t([4], 3, "ln"),
    "layers.0.q_proj.lora_B.weight": t([4, 2], 4, "B"),
    "embed_tokens.weight": t([6, 4], 5, "emb"),
  };
}

function step(params: Tensor[], seed: number): void {
  const terms = params.map((p, i) => ops.sum(ops.mul(p, tensor(randomArray(p.numel, seed * 10 + i), p.shape))));
  backward(terms.reduce((a, b) => ops.add(a, b)));
}

describe("parameter groups", () => {
  test("norms and biases get no weight decay; rules set lr multipliers and their own decay", () => {
    const p = named();
    const rules = [{ name: "lora_B", match: (n: string) => n.includes("lora_B"), lrScale: 16 }];
    const groups = buildGroups(p, { weightDecay: 0.1, rules })._unsafeUnwrap();
    const byName = Object.fromEntries(groups.flatMap((g) => g.names.map((n) => [n, { wd: g.weightDecay, lr: g.lrScale, group: g.name }])));
    expect(byName["layers.0.attn.q_proj.weight"]).toEqual({ wd: 0.1, lr: 1, group: "default" });
    expect(byName["layers.0.attn.q_proj.bias"]).toEqual({ wd: 0, lr: 1, group: "default/no_decay" });
    expect(byName["layers.0.input_layernorm.weight"]).toEqual({ wd: 0, lr: 1, group: "default/no_decay" });
    expect(byName["layers.0.q_proj.lora_B.weight"]).toEqual({ wd: 0.1, lr: 16, group: "lora_B" });
    expect(byName["embed_tokens.weight"]).toEqual({ wd: 0.1, lr: 1, group: "default" });
    expect(groups).toHaveLength(3);
    for (const t of Object.values(p)) t.dispose();
  });

  test("frozen or non-f32 parameters are refused with the parameter's name", () => {
    const frozen = tensor([1, 2], [2]);
    expect(buildGroups({ "x.weight": frozen }, { weightDecay: 0 })._unsafeUnwrapErr().message).toMatch(/"x.weight" .* does not require a gradient/);
    expect(buildGroups({}, { weightDecay: 0 })._unsafeUnwrapErr().message).toMatch(/no trainable parameters/);
    frozen.dispose();
  });

  test("AdamW applies each group's lr multiplier and weight decay", () => {
    // The same tensor trained alone with lr·s and decay wd must match its grouped twin exactly.
    const init = randomArray(6, 77);
    const grouped = [tensor(init, [6], { requiresGrad: true }), tensor(init, [6], { requiresGrad: true })];
    const alone = [tensor(init, [6], { requiresGrad: true }), tensor(init, [6], { requiresGrad: true })];
    const opt = new AdamW([{ params: [grouped[0]!], lrScale: 4, weightDecay: 0 }, { params: [grouped[1]!], weightDecay: 0.3 }], { lr: 0.01, weightDecay: 0.3 });
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
      tidy(() => (step([a[0]!], 1), optA.update(), optA.zeroGrad()));
      tidy(() => (step(a, 2), optA.update(), optA.zeroGrad()));
      const { meta, tensors } = optA.exportState();
      expect(meta.params).toEqual([{ index: 0, step: 2 }, { index: 1, step: 1 }]);
      const host = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.toArray() as Float32Array }]));
      a.forEach((p, i) => b[i]!.backend.upload(b[i]!, p.toArray()));
      optB.importState(meta, host)._unsafeUnwrap();
      for (let s = 3; s < 6; s++) {
        tidy(() => (step(a, s), optA.update(), optA.zeroGrad()));
        tidy(() => (step(b, s), optB.update(), optB.zeroGrad()));
      }
      a.forEach((p, i) => expect(Array.from(b[i]!.toArray())).toEqual(Array.from(p.toArray())));
      host.delete("1.exp_avg_sq");
      expect(optB.importState(meta, host)._unsafeUnwrapErr().message).toMatch(/missing tensor "1.exp_avg_sq"/);
    } finally {
      optA.dispose();
      optB.dispose();
      for (const t of [...a, ...b]) t.dispose();
    }
  });

  test("createOptimizer refuses bad specs with the field's name", () => {
    const p = tensor([1], [1], { requiresGrad: true });
    expect(createOptimizer({ kind: "adamw", lr: 1e-3, beta2: 1 }, [{ params: [p] }])._unsafeUnwrapErr().message).toMatch(/beta2 must be in \[0, 1\)/);
    expect(createOptimizer({ kind: "sgd", lr: Number.NaN }, [{ params: [p] }])._unsafeUnwrapErr().message).toMatch(/lr must be a finite/);
    expect(createOptimizer({ kind: "sgd", lr: 0.1, nesterov: true }, [{ params: [p] }])._unsafeUnwrapErr().message).toMatch(/nesterov needs momentum > 0/);
    expect(createOptimizer({ kind: "lion", lr: 0.1 } as never, [{ params: [p] }])._unsafeUnwrapErr().message).toMatch(/unknown optimizer "lion"; known: adamw, sgd/);
    p.dispose();
  });
});
