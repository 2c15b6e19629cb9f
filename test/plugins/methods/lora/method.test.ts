// The lora method on the shipped stories260K model (5 layers, hidden 64, tied embeddings): which
// parameters it makes trainable, precision over a bf16 base, rsLoRA's scale, LoRA+'s groups as the
// optimizer sees them, additional_target, dropout's train flag, and bad options returned as errors.
import { expect, test } from "bun:test";
import { backward, buildGroups, ops, TrainRng, tensor, tidy } from "../../../../core/index.ts";
import { full } from "../../../../plugins/methods/full.ts";
import { type LoraMethod, lora } from "../../../../plugins/methods/index.ts";
import { AdamW } from "../../../../plugins/optimizers/index.ts";
import { expectClose } from "../../../helpers/compare.ts";
import { randomArray } from "../../../helpers/random.ts";
import { family, IDS, loadStories, logitsOf, perturbTrainable } from "../helpers.ts";
import { matmulT } from "./reference.ts";

const names = (params: Readonly<Record<string, unknown>>) => Object.keys(params);
const TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

test("lora: only adapters train; targets all = the family's adapter targets; names are PEFT's", () => {
  const model = loadStories();
  const before = logitsOf(model);
  const m = lora.apply(model, {}, family)._unsafeUnwrap() as LoraMethod;
  expect(m.settings.targets).toEqual(TARGETS);
  expect(m.adapters.size).toBe(5 * 7);
  const trainable = names(m.params);
  expect(trainable.length).toBe(5 * 7 * 2);
  expect(trainable.slice(0, 2)).toEqual(["model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj.lora_B.weight"]);
  expect(trainable.every((p) => /\.lora_[AB]\.weight$/.test(p))).toBe(true);
  expect(
    model
      .namedParameters()
      .filter(([p]) => !p.includes(".lora_"))
      .every(([, t]) => !t.requiresGrad),
  ).toBe(true);
  // The base checkpoint's tensors are unchanged and B = 0: the model computes what it did.
  expect(model.parameterShapes().length).toBe(5 * 9 + 2);
  expectClose(logitsOf(model), before, 1e-6, "logits at init");
  model.dispose();

  const qv = loadStories();
  const m2 = lora.apply(qv, { targets: ["q_proj", "v_proj"], dora: true, rank: 4 }, family)._unsafeUnwrap() as LoraMethod;
  expect(m2.adapters.size).toBe(10);
  expect(names(m2.params).slice(0, 3)).toEqual([
    "model.layers.0.self_attn.q_proj.lora_magnitude_vector",
    "model.layers.0.self_attn.q_proj.lora_A.weight",
    "model.layers.0.self_attn.q_proj.lora_B.weight",
  ]);
  expect(m2.params["model.layers.0.self_attn.q_proj.lora_A.weight"]!.shape).toEqual([4, 64]);
  expect(m2.params["model.layers.0.self_attn.v_proj.lora_B.weight"]!.shape).toEqual([32, 4]);
  qv.dispose();
});

test("rsLoRA scales the update by alpha / sqrt(rank), plain LoRA by alpha / rank", () => {
  const x = randomArray(3 * 64, 31);
  for (const rslora of [false, true]) {
    const model = loadStories();
    const m = lora.apply(model, { rank: 4, alpha: 8, rslora, targets: ["q_proj"] }, family)._unsafeUnwrap() as LoraMethod;
    const layer = m.adapters.get("model.layers.2.self_attn.q_proj")!;
    const b = randomArray(64 * 4, 32);
    layer.setParameter("lora_B.weight", tensor(b, [64, 4]))._unsafeUnwrap();
    const a = layer.lora_A.weight.toArray();
    const w = layer.base.weight.toArray();
    const y = tidy(() => layer.base.forward(tensor(x, [3, 64])).toArray());
    const scale = rslora ? 8 / Math.sqrt(4) : 8 / 4;
    expect(m.scale).toBe(scale);
    const base = matmulT(x, w, 3, 64, 64);
    const delta = matmulT(matmulT(x, a, 3, 64, 4), b, 3, 4, 64);
    expectClose(
      y,
      base.map((v, i) => v + scale * delta[i]!),
      1e-5,
      `rslora ${rslora}`,
    );
    model.dispose();
  }
});

test("LoRA+: B matrices form their own group at lr × ratio, and one AdamW step moves them ratio times further", () => {
  const model = loadStories();
  const m = lora.apply(model, { rank: 4, targets: ["q_proj", "v_proj"], dora: true, loraplus_lr_ratio: 16 }, family, { seed: 2 })._unsafeUnwrap() as LoraMethod;
  // Trained B (not the zero init), so A has gradients too.
  perturbTrainable(model, 4);
  const groups = buildGroups(m.params, { weightDecay: 0.1, rules: m.groups })._unsafeUnwrap();
  const byName = Object.fromEntries(groups.map((g) => [g.name, g]));
  expect(Object.keys(byName).sort()).toEqual(["default", "default/no_decay", "loraplus_B"]);
  expect(byName.loraplus_B!.lrScale).toBe(16);
  expect(byName.loraplus_B!.names.every((n) => n.endsWith(".lora_B.weight"))).toBe(true);
  expect(byName.loraplus_B!.names.length).toBe(10);
  expect(byName.default!.names.every((n) => n.endsWith(".lora_A.weight"))).toBe(true);
  // The DoRA magnitude is 1-D: no weight decay.
  expect(byName["default/no_decay"]!.names.every((n) => n.endsWith(".lora_magnitude_vector"))).toBe(true);

  // Without decay, so each first-step move is exactly lr × the group's scale.
  const plain = buildGroups(m.params, { weightDecay: 0, rules: m.groups })._unsafeUnwrap();
  const opt = new AdamW(plain, { lr: 1e-3 });
  const ids = tensor(IDS, [1, IDS.length], { dtype: "i32" });
  tidy(() => backward(ops.crossEntropy(ops.reshape(model.forward(ids), [IDS.length, 512]), tensor(IDS.slice(1).concat([2]), [IDS.length], { dtype: "i32" }))));
  const before = Object.fromEntries(Object.entries(m.params).map(([n, t]) => [n, t.toArray()]));
  opt.update();
  const maxStep = (suffix: string) =>
    Math.max(
      ...Object.entries(m.params)
        .filter(([n]) => n.endsWith(suffix))
        .flatMap(([n, t]) => [...t.toArray()].map((v, i) => Math.abs(v - before[n]![i]!))),
    );
  // Adam's first step moves each weight by ~lr (sign of its gradient): B by 16e-3, A by 1e-3.
  expect(maxStep(".lora_B.weight")).toBeCloseTo(16e-3, 5);
  expect(maxStep(".lora_A.weight")).toBeCloseTo(1e-3, 5);
  opt.dispose();
  model.dispose();
});

test("LoRA and DoRA over a bf16 base: adapters are f32 and get gradients, the base stays bf16 and frozen", () => {
  const model = loadStories({ dtype: "bf16" });
  const before = logitsOf(model);
  const m = lora.apply(model, { rank: 4, dora: true, targets: ["all"] }, family)._unsafeUnwrap() as LoraMethod;
  // DoRA's magnitude starts at the row norms of the (bf16) weight: the model starts unchanged.
  expectClose(logitsOf(model), before, 1e-5, "bf16 base + DoRA at init");
  expect(Object.values(m.params).every((t) => t.dtype === "f32")).toBe(true);
  perturbTrainable(model, 12);
  const ids = tensor(IDS, [1, IDS.length], { dtype: "i32" });
  tidy(() => backward(ops.mean(model.forward(ids))));
  expect(Object.values(m.params).every((t) => t.grad?.toArray().some((v) => v !== 0))).toBe(true);
  expect(model.getParameter("model.layers.0.mlp.down_proj.weight")!).toMatchObject({ dtype: "bf16", requiresGrad: false, grad: null });
  model.dispose();
});

test("additional_target trains whole modules in f32 beside the adapters (PEFT's modules_to_save)", () => {
  const model = loadStories({ dtype: "bf16" });
  const m = lora.apply(model, { rank: 2, targets: ["q_proj"], additional_target: ["embed_tokens", "norm"] }, family)._unsafeUnwrap() as LoraMethod;
  expect([...m.additional.keys()]).toEqual(["model.embed_tokens", "model.norm"]);
  const trainable = names(m.params);
  expect(trainable.filter((p) => !p.includes(".lora_"))).toEqual(["model.embed_tokens.weight", "model.norm.weight"]);
  expect(m.params["model.embed_tokens.weight"]!.dtype).toBe("f32");
  expect(model.getParameter("model.layers.0.mlp.up_proj.weight")!.dtype).toBe("bf16");
  model.dispose();
});

test("lora: bad options are errors that say what was expected", () => {
  const model = loadStories();
  const msg = (o: Record<string, unknown>) => lora.apply(model, o, family)._unsafeUnwrapErr().message;
  expect(msg({ rank: 0 })).toContain('option "rank" must be >= 1, found 0');
  expect(msg({ targets: ["q_prj"] })).toContain('unknown target "q_prj"; did you mean "q_proj"');
  expect(msg({ targets: ["q_prj"] })).toContain("this model's adapter targets: down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, v_proj");
  expect(msg({ targets: ["embed_tokens"] })).toContain("not a linear layer");
  // stories260K ties its embeddings: there is no lm_head module to train.
  expect(msg({ additional_target: ["lm_head"] })).toContain('unknown additional_target "lm_head"');
  expect(msg({ additional_target: ["self_attn"], targets: ["q_proj"] })).toContain("overlaps the adapted layer");
  expect(msg({ rnak: 4 })).toContain('unknown option "rnak"; did you mean "rank"?');
  expect(msg({ dropout: 1 })).toContain('option "dropout" must be in [0, 0.99]');
  expect(msg({ init: "pisa" })).toContain('did you mean "pissa"?');
  expect(msg({ loraplus_lr_ratio: 0 })).toContain("loraplus_lr_ratio must be > 0");
  expect(msg({ init: "pissa", rank: 40, targets: ["k_proj"] })).toContain("PiSSA rank 40 exceeds the smaller side");
  // Nothing was attached by the failed attempts.
  expect(model.namedModules().some(([, mod]) => (mod as { adapter?: unknown }).adapter)).toBe(false);
  lora.apply(model, { rank: 2 }, family)._unsafeUnwrap();
  expect(msg({ rank: 2 })).toContain("already has adapters");
  expect(full.apply(model, {}, family)._unsafeUnwrapErr().message).toContain("carries an adapter");
  model.dispose();
});

test("training flag and beginForward: dropout masks come from the bound stream and stop in eval", () => {
  const model = loadStories();
  const m = lora.apply(model, { rank: 2, dropout: 0.5, targets: ["q_proj"] }, family)._unsafeUnwrap();
  const rng = new TrainRng(3n);
  m.beginForward(rng);
  logitsOf(model);
  // Five q_proj adapters each reserved a mask for their [1, 8, 64] input.
  expect(rng.position).toBe(5n * BigInt((8 * 64) / 4));
  m.training = false;
  m.beginForward();
  logitsOf(model);
  expect(rng.position).toBe(5n * BigInt((8 * 64) / 4));
  model.dispose();
});

test("lora: withAdaptersDisabled computes the base model (the reference), then the adapters are back", () => {
  const model = loadStories();
  const base = logitsOf(model);
  const m = lora.apply(model, { targets: ["q_proj", "v_proj"], rank: 4 }, family)._unsafeUnwrap() as LoraMethod;
  perturbTrainable(model, 1);
  const adapted = logitsOf(model);
  expect(Math.max(...adapted.map((v, i) => Math.abs(v - base[i]!)))).toBeGreaterThan(1e-3);
  const reference = m.withAdaptersDisabled(() => logitsOf(model))._unsafeUnwrap();
  expectClose(reference, base, 1e-6, "adapters off = base");
  expectClose(logitsOf(model), adapted, 0, "adapters back on");
  // A throw inside still switches them back on.
  expect(() =>
    m.withAdaptersDisabled(() => {
      throw new Error("inside");
    }),
  ).toThrow("inside");
  expectClose(logitsOf(model), adapted, 0, "adapters back on after a throw");
  expect(m.merge().isOk()).toBe(true);
  expect(m.withAdaptersDisabled(() => 0)._unsafeUnwrapErr().message).toContain("merged");
  model.dispose();

  const extra = loadStories();
  const m2 = lora.apply(extra, { targets: ["q_proj"], additional_target: ["norm"] }, family)._unsafeUnwrap() as LoraMethod;
  expect(m2.withAdaptersDisabled(() => 0)._unsafeUnwrapErr().message).toContain("additional_target");
  extra.dispose();
});
