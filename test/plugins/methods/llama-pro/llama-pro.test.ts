// LLaMA Pro on the shipped stories260K model (5 layers): LLaMA-Factory's expansion rule, logits
// unchanged by the expansion, gradients only in the new blocks, and the expanded model written as a
// complete checkpoint that loads back with num_hidden_layers raised.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backward, loadModel, methodEntry, ops, tensor, tidy } from "../../../../core/index.ts";
import { expandedBlockIds, expansionPlan, llamaPro } from "../../../../plugins/methods/index.ts";
import { family, IDS, loadStories, logitsOf, perturbTrainable, registry } from "../helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "lft-llama-pro-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test("the plan follows llama_pro.py: a copy after every (L/N)-th layer; the stride rule finds the copies", () => {
  const plan = expansionPlan(4, 2)._unsafeUnwrap();
  expect(plan).toEqual([
    { source: 0, copy: false },
    { source: 1, copy: false },
    { source: 1, copy: true },
    { source: 2, copy: false },
    { source: 3, copy: false },
    { source: 3, copy: true },
  ]);
  // LLaMA-Factory's use_llama_pro on the expanded model trains range(stride - 1, L', stride).
  expect(expandedBlockIds(6, 2)._unsafeUnwrap()).toEqual([2, 5]);
  const big = expansionPlan(32, 8)._unsafeUnwrap();
  expect(expandedBlockIds(40, 8)._unsafeUnwrap()).toEqual(big.flatMap((p, j) => (p.copy ? [j] : [])));
  expect(expansionPlan(5, 2)._unsafeUnwrapErr()).toContain("5 decoder layers, which 2 does not divide");
  expect(expansionPlan(5, 0)._unsafeUnwrapErr()).toContain("positive whole number");
});

test("registered with its options; bad options and an indivisible expand are errors, the model untouched", () => {
  const entry = methodEntry(registry.get("methods", "llama_pro")._unsafeUnwrap())._unsafeUnwrap();
  expect(Object.keys(entry.options!)).toEqual(["expand", "expanded", "modules", "extra_modules"]);
  const model = loadStories();
  const before = logitsOf(model);
  expect(llamaPro.apply(model, { expand: 2 }, family)._unsafeUnwrapErr().message).toContain("5 decoder layers, which 2 does not divide");
  expect(llamaPro.apply(model, {}, family)._unsafeUnwrapErr().message).toContain('option "expand" is required');
  expect(llamaPro.apply(model, { expand: 5, modules: ["mlpp"] }, family)._unsafeUnwrapErr().message).toContain('no module "mlpp"');
  expect(maxDiff(before, logitsOf(model))).toBe(0);
  model.dispose();
});

test("expansion leaves the logits unchanged, and only the new blocks train", () => {
  const model = loadStories();
  const before = logitsOf(model);
  const oldCount = model.parameters().reduce((n, t) => n + t.numel, 0);
  const applied = llamaPro.apply(model, { expand: 5 }, family)._unsafeUnwrap();
  const grown = applied.model;
  expect(grown).not.toBe(model);
  expect(grown.spec.numLayers).toBe(10);
  expect(grown.spec.config.num_hidden_layers).toBe(10);
  expect(model.namedParameters().length).toBe(0); // its tensors moved into the expanded model
  // Identical function: the copies add exactly zero to the residual stream.
  expect(maxDiff(before, logitsOf(grown))).toBeLessThan(1e-6);
  // Copies are layers 1, 3, 5, 7, 9 (after every layer); their output projections are zero, the rest cloned.
  const trainable = Object.keys(applied.params);
  const newLayers = new Set([1, 3, 5, 7, 9]);
  expect(trainable.length).toBe(5 * 9);
  expect(trainable.every((p) => newLayers.has(Number(/^model\.layers\.(\d+)\./.exec(p)?.[1])))).toBe(true);
  for (const j of newLayers) {
    const o = grown.getParameter(`model.layers.${j}.self_attn.o_proj.weight`)!.toArray();
    const down = grown.getParameter(`model.layers.${j}.mlp.down_proj.weight`)!.toArray();
    expect(o.every((v) => v === 0) && down.every((v) => v === 0)).toBe(true);
    const q = grown.getParameter(`model.layers.${j}.self_attn.q_proj.weight`)!.toArray();
    expect(q).toEqual(grown.getParameter(`model.layers.${j - 1}.self_attn.q_proj.weight`)!.toArray());
  }
  expect(applied.counts.total).toBe(grown.parameters().reduce((n, t) => n + t.numel, 0));
  expect(applied.counts.total - oldCount).toBe(applied.counts.trainable);

  // One backward: gradients reach the new blocks' output projections and nothing outside the new blocks.
  tidy(() => {
    const ids = tensor(IDS.slice(0, -1), [1, IDS.length - 1], { dtype: "i32" });
    const targets = tensor(IDS.slice(1), [IDS.length - 1], { dtype: "i32" });
    const logits = ops.reshape(grown.forward(ids), [IDS.length - 1, grown.spec.vocabSize]);
    backward(ops.crossEntropy(logits, targets));
  });
  for (const [path, t] of grown.namedParameters()) {
    const layer = Number(/^model\.layers\.(\d+)\./.exec(path)?.[1] ?? -1);
    if (!newLayers.has(layer)) expect(t.grad ?? null).toBeNull();
    else expect(t.grad).not.toBeNull();
  }
  const gO = grown.getParameter("model.layers.9.self_attn.o_proj.weight")!.grad!.toArray();
  const gDown = grown.getParameter("model.layers.9.mlp.down_proj.weight")!.grad!.toArray();
  expect(gO.some((v) => v !== 0) && gDown.some((v) => v !== 0)).toBe(true);
  for (const t of grown.parameters()) {
    t.grad?.dispose();
    t.grad = null;
  }
  grown.dispose();
});

test("the expanded, trained model exports as a complete checkpoint that loads back with its layers", () => {
  const model = loadStories();
  const applied = llamaPro.apply(model, { expand: 1, modules: ["mlp"] }, family)._unsafeUnwrap();
  const grown = applied.model;
  expect(Object.keys(applied.params)).toEqual([
    "model.layers.5.mlp.gate_proj.weight",
    "model.layers.5.mlp.up_proj.weight",
    "model.layers.5.mlp.down_proj.weight",
  ]);
  perturbTrainable(grown, 3);
  const trained = logitsOf(grown);
  const dir = join(tmp, "expanded");
  applied.saveTrainable(dir)._unsafeUnwrap();
  expect(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).num_hidden_layers).toBe(6);
  const back = loadModel(dir, registry)._unsafeUnwrap();
  expect(back.spec.numLayers).toBe(6);
  expect(back.warnings).toEqual([]);
  expect(maxDiff(trained, logitsOf(back.model))).toBe(0);
  // Loaded as already expanded: the same block is chosen by LLaMA-Factory's stride rule.
  const again = llamaPro.apply(back.model, { expand: 1, expanded: true }, family)._unsafeUnwrap();
  expect(again.model).toBe(back.model);
  expect(Object.keys(again.params).every((p) => p.startsWith("model.layers.5."))).toBe(true);
  back.model.dispose();
  grown.dispose();
});

test("expanded = true on a model whose layer count the blocks do not divide names both", () => {
  const model = loadStories();
  expect(llamaPro.apply(model, { expand: 2, expanded: true }, family)._unsafeUnwrapErr().message).toBe(
    'method "llama_pro" (expanded = true): the model has 5 decoder layers, which 2 does not divide',
  );
  model.dispose();
});
