// The method plugins on the shipped stories260K model (5 layers, hidden 64, tied embeddings):
// registration, which parameters full and freeze make trainable, their precision rules, and bad options
// returned as errors that name the fix. LoRA's own tests are in lora/.
import { expect, test } from "bun:test";
import { methodEntry } from "../../../core/index.ts";
import { freeze, trainableLayerIds } from "../../../plugins/methods/freeze.ts";
import { full } from "../../../plugins/methods/full.ts";
import { family, loadStories, registry } from "./helpers.ts";

const names = (params: Readonly<Record<string, unknown>>) => Object.keys(params);

test("the methods plugin registers full, freeze and lora with their option schemas", () => {
  for (const name of ["full", "freeze", "lora"]) {
    const entry = methodEntry(registry.get("methods", name)._unsafeUnwrap());
    expect(entry.isOk()).toBe(true);
  }
  expect(Object.keys(registry.get("methods", "lora")._unsafeUnwrap().options!)).toEqual([
    "rank",
    "alpha",
    "dropout",
    "targets",
    "rslora",
    "dora",
    "loraplus_lr_ratio",
    "init",
    "pissa_iter",
    "additional_target",
  ]);
  expect(methodEntry({ name: "bare" })._unsafeUnwrapErr().message).toContain("has no apply()");
});

test("full: every parameter trainable; half-precision storage refused with the fix", () => {
  const model = loadStories();
  const m = full.apply(model, {}, family)._unsafeUnwrap();
  expect(names(m.params)).toEqual(model.namedParameters().map(([p]) => p));
  expect(m.counts.trainable).toBe(m.counts.total);
  expect(model.parameters().every((t) => t.requiresGrad)).toBe(true);
  model.dispose();

  const half = loadStories({ dtype: "bf16" });
  const e = full.apply(half, {}, family)._unsafeUnwrapErr();
  expect(e.message).toContain('method "full" trains every parameter');
  expect(e.message).toContain("bf16");
  expect(e.message).toContain("dtype = f32");
  expect(full.apply(loadStories(), { rank: 4 }, family)._unsafeUnwrapErr().message).toContain('unknown option "rank"');
  half.dispose();
});

test("freeze picks layers as LLaMA-Factory's freeze_trainable_layers: the last N, or the first |N|", () => {
  expect(trainableLayerIds(5, 2)).toEqual([3, 4]);
  expect(trainableLayerIds(5, -2)).toEqual([0, 1]);
  expect(trainableLayerIds(5, 9)).toEqual([0, 1, 2, 3, 4]);
  const model = loadStories();
  const last = freeze.apply(model, {}, family)._unsafeUnwrap();
  const all = model.namedParameters().map(([p]) => p);
  expect(names(last.params)).toEqual(all.filter((p) => /^model\.layers\.[34]\./.test(p)));
  expect(names(last.params).length).toBe(2 * 9);
  const first = freeze.apply(model, { layers: -1, modules: ["mlp", "self_attn.q_proj"], extra_modules: ["norm"] }, family)._unsafeUnwrap();
  expect(names(first.params)).toEqual([
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.0.mlp.gate_proj.weight",
    "model.layers.0.mlp.up_proj.weight",
    "model.layers.0.mlp.down_proj.weight",
    "model.norm.weight",
  ]);
  // Everything else is frozen again: a second apply replaces the first selection.
  expect(model.trainableParameters().length).toBe(5);
  model.dispose();
});

test("freeze widens only the trained half-precision weights to f32", () => {
  const model = loadStories({ dtype: "bf16" });
  const m = freeze.apply(model, { layers: 1, extra_modules: ["embed_tokens"] }, family)._unsafeUnwrap();
  for (const [p, t] of model.namedParameters()) {
    const trained = p.startsWith("model.layers.4.") || p === "model.embed_tokens.weight";
    expect([p, t.requiresGrad]).toEqual([p, trained]);
    if (trained) expect([p, t.dtype]).toEqual([p, "f32"]);
  }
  expect(model.getParameter("model.layers.0.self_attn.q_proj.weight")!.dtype).toBe("bf16");
  expect(m.counts.trainable).toBeGreaterThan(0);
  model.dispose();
});

test("freeze: bad options are errors with a did-you-mean", () => {
  const model = loadStories();
  expect(freeze.apply(model, { layers: 0 }, family)._unsafeUnwrapErr().message).toContain('"layers" must not be 0');
  expect(freeze.apply(model, { modules: ["mpl"] }, family)._unsafeUnwrapErr().message).toContain('no module "mpl" in the decoder layers; did you mean "mlp"?');
  expect(freeze.apply(model, { extra_modules: ["embed_token"] }, family)._unsafeUnwrapErr().message).toContain('did you mean "embed_tokens"?');
  expect(freeze.apply(model, { layers: 1.5 }, family)._unsafeUnwrapErr().message).toContain("expects an integer");
  model.dispose();
});
