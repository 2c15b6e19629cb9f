// `method qlora` on the shipped stories260K model: quantise at load (one tensor at a time) or after, LoRA on
// top, training lowers the loss, merge dequantises and folds the adapter, export writes a plain HF model;
// the combinations QLoRA refuses are errors.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CausalLM, Linear, loadModel, saveModel, shuffledBatches, train } from "../../../../core/index.ts";
import { qlora, quantizeLinears, quantizeOnLoad } from "../../../../plugins/methods/index.ts";
import { adamw } from "../../../../plugins/optimizers/index.ts";
import { family, loadStories, logitsOf, lossFnFor, ROWS, registry, STORIES } from "../helpers.ts";

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "lft-qlora-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

function quantizedLayers(model: CausalLM): string[] {
  return model.namedModules().flatMap(([p, m]) => (m instanceof Linear && m.frozen ? [`${p}:${m.frozen.format}`] : []));
}

test("quantise at load: every decoder Linear becomes NF4, the logits stay near the f32 model's", () => {
  const dense = loadStories();
  const q = loadModel(STORIES, registry, { transform: quantizeOnLoad({ type: "nf4", doubleQuant: true }) })._unsafeUnwrap().model;
  const layers = quantizedLayers(q);
  expect(layers.length).toBe(5 * 7);
  expect(layers.every((l) => l.endsWith(":nf4"))).toBe(true);
  const a = logitsOf(dense);
  const b = logitsOf(q);
  const spread = Math.max(...a) - Math.min(...a);
  const diff = maxAbsDiff(a, b);
  expect(diff).toBeGreaterThan(0); // it is quantised
  expect(diff).toBeLessThan(0.25 * spread);
  dense.dispose();
  q.dispose();
});

test("qlora through train(): the loss falls with a frozen NF4 base; merge dequantises and export writes a plain model", async () => {
  const model = loadStories();
  const applied = qlora.apply(model, { rank: 4, alpha: 8, targets: ["q_proj", "v_proj"], quant_type: "nf4" }, family, { seed: 3 })._unsafeUnwrap();
  expect(applied.method).toBe("qlora");
  expect(Object.keys(applied.params).every((k) => k.includes("lora_"))).toBe(true);
  expect(applied.counts.total).toBeGreaterThan(applied.counts.trainable);
  const result = (
    await train({
      params: applied.params,
      groups: applied.groups,
      optimizer: adamw({ lr: 5e-3 }),
      steps: 10,
      batches: shuffledBatches(ROWS, { batchSize: 2, seed: 1 }),
      lossFn: lossFnFor(model, applied),
      seed: 5,
      progress: false,
    })
  )._unsafeUnwrap();
  const l = result.losses;
  expect((l[8]! + l[9]!) / 2).toBeLessThan((l[0]! + l[1]!) / 2 - 0.05);
  applied.training = false;
  const before = logitsOf(model);
  applied.merge()._unsafeUnwrap();
  expect(quantizedLayers(model)).toEqual([]);
  expect(maxAbsDiff(logitsOf(model), before)).toBeLessThan(1e-3);
  const dir = join(root, "merged");
  saveModel(model, dir, { dtype: "f32" })._unsafeUnwrap();
  const back = loadModel(dir, registry)._unsafeUnwrap().model;
  expect(maxAbsDiff(logitsOf(back), before)).toBeLessThan(1e-3);
  back.dispose();
  model.dispose();
});

test("qlora int8 and fp4: the base is stored in that format and training runs", () => {
  for (const quant_type of ["int8", "fp4"] as const) {
    const model = loadStories();
    const applied = qlora.apply(model, { rank: 2, quant_type, double_quant: false }, family)._unsafeUnwrap();
    expect(quantizedLayers(model).every((l) => l.endsWith(`:${quant_type}`))).toBe(true);
    expect(logitsOf(model).every(Number.isFinite)).toBe(true);
    expect(applied.counts.trainable).toBeGreaterThan(0);
    model.dispose();
  }
});

test("refused combinations and bad options are errors, not crashes", () => {
  const model = loadStories();
  const dora = qlora.apply(model, { dora: true, quant_type: "int8" }, family);
  expect(dora.isErr() && dora.error.message).toMatch(/dora = true .* int8 base/);
  const pissa = qlora.apply(model, { init: "pissa" }, family);
  expect(pissa.isErr() && pissa.error.message).toMatch(/pissa .* nf4 base/);
  const bad = qlora.apply(model, { quant_type: "nf3" }, family);
  expect(bad.isErr() && bad.error.message).toMatch(/quant_type/);
  expect(quantizedLayers(model)).toEqual([]);
  model.dispose();
});

test("quantising a model with no linear layers left to quantise is an error naming the format", () => {
  const model = loadStories();
  const skip = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head"];
  const r = quantizeLinears(model, { type: "int8", doubleQuant: false, skip });
  expect(r.isErr() && r.error.message).toBe("quantize = int8: the model has no linear layers to quantise");
  model.dispose();
});
