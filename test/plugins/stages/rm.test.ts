// The rm stage's parts: the pairwise loss against a float64 reference written from the formula
// (-mean log sigmoid(r_c - r_r)) with gradients by finite differences, the value head's read position
// in a right-padded batch, the hidden states the forward hands it (hiddenOnly), and the
// value_head.safetensors round trip with its errors.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Batch, backward, collate, ops, tensor, writeSafetensors } from "../../../core/index.ts";
import { gemma2 } from "../../../plugins/models/gemma2.ts";
import {
  createValueHead,
  lastTokenPositions,
  loadValueHead,
  pairwiseRewardLoss,
  pairwiseRewardMetrics,
  rewardModelLoss,
  saveValueHead,
  scoreBatch,
  VALUE_HEAD_BIAS,
  VALUE_HEAD_FILE,
  VALUE_HEAD_WEIGHT,
  valueHeadScores,
} from "../../../plugins/stages/index.ts";
import { randomize, randomModel, specOf } from "../../core/nn/helpers.ts";

const scratch = mkdtempSync(join(tmpdir(), "lft-rm-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** float64 reference: mean over pairs of -log sigmoid(c - r), written as log(1 + exp(-(c - r))) stably. */
function refLoss(r: readonly number[]): number {
  const B = r.length / 2;
  let s = 0;
  for (let i = 0; i < B; i++) {
    const d = r[i]! - r[B + i]!;
    s += d >= 0 ? Math.log1p(Math.exp(-d)) : -d + Math.log1p(Math.exp(d));
  }
  return s / B;
}

const REWARDS = [0.3, -1.2, 2.5, 0.0, 14.0, -0.7, 0.9, 1.1, -3.0, 25.0];

test("the pairwise loss equals -mean log sigmoid(r_chosen - r_rejected) in float64, large margins included", () => {
  const got = pairwiseRewardLoss(tensor(Float32Array.from(REWARDS), [REWARDS.length])).item();
  // f32 logits through a fused log-sum-exp: agree to ~1e-6 relative.
  expect(Math.abs(got - refLoss(REWARDS))).toBeLessThan(1e-5 * Math.max(1, refLoss(REWARDS)));
  // One pair with a huge margin either way: no overflow.
  expect(pairwiseRewardLoss(tensor(Float32Array.from([100, -100]), [2])).item()).toBeCloseTo(refLoss([100, -100]), 6);
  expect(pairwiseRewardLoss(tensor(Float32Array.from([-100, 100]), [2])).item()).toBeCloseTo(200, 3);
});

test("its gradient matches central finite differences of the float64 reference", () => {
  const r = tensor(Float32Array.from(REWARDS), [REWARDS.length], { requiresGrad: true });
  backward(pairwiseRewardLoss(r));
  const grad = r.grad!.toArray() as Float32Array;
  const h = 1e-5;
  for (let i = 0; i < REWARDS.length; i++) {
    const up = REWARDS.map((v, j) => (j === i ? v + h : v));
    const down = REWARDS.map((v, j) => (j === i ? v - h : v));
    const fd = (refLoss(up) - refLoss(down)) / (2 * h);
    // f32 gradient vs float64 differences: 1e-6 absolute is several f32 ulps of values below 0.2.
    expect(Math.abs(grad[i]! - fd)).toBeLessThan(1e-6);
  }
  // Chosen and rejected gradients of a pair are opposite (the loss depends on the difference only).
  expect(grad[0]! + grad[5]!).toBeCloseTo(0, 7);
});

test("metrics: accuracy counts r_chosen > r_rejected; reward means and margin", () => {
  const m = pairwiseRewardMetrics(REWARDS);
  // pairs: (0.3,-0.7) (-1.2,0.9) (2.5,1.1) (0,-3) (14,25): 3 of 5 right.
  expect(m.accuracy).toBe(0.6);
  expect(m["rewards/chosen"]).toBeCloseTo((0.3 - 1.2 + 2.5 + 0 + 14) / 5, 10);
  expect(m["rewards/rejected"]).toBeCloseTo((-0.7 + 0.9 + 1.1 - 3 + 25) / 5, 10);
  expect(m["rewards/margins"]).toBeCloseTo(m["rewards/chosen"]! - m["rewards/rejected"]!, 10);
});

test("the value head reads each row's last real token in a right-padded batch, as that row alone", () => {
  const model = randomModel(specOf());
  const head = createValueHead(model.spec.hiddenSize, 7, tensor([0]).backend);
  const rows = [
    [5, 9, 2, 7, 1],
    [3, 4],
    [8, 6, 11],
  ];
  const batch = collate(
    rows.map((ids) => ({ inputIds: ids, labels: ids })),
    { padId: 0 },
  );
  expect([...lastTokenPositions(batch)]).toEqual([4, 1, 2]);
  const together = scoreBatch(model, head, batch).toArray() as Float32Array;
  for (const [i, ids] of rows.entries()) {
    const alone = scoreBatch(model, head, collate([{ inputIds: ids, labels: ids }], { padId: 0 })).toArray()[0]!;
    expect(together[i]!).toBeCloseTo(alone, 5);
  }
  // Reading the padded position instead would give another value.
  const wrong = valueHeadScores(head, model.forward(tensor(batch.inputIds, [3, 5], { dtype: "i32" }), { hiddenOnly: true }), Int32Array.from([4, 4, 4]));
  expect(Math.abs(wrong.toArray()[1]! - together[1]!)).toBeGreaterThan(1e-4);
});

test("the value head's gradients (weight, bias, hidden) match finite differences", () => {
  const H = 6;
  const hiddenData = Float32Array.from({ length: 2 * 3 * H }, (_, i) => Math.sin(i * 0.7));
  const pos = Int32Array.from([2, 1]);
  const head = createValueHead(H, 3, tensor([0]).backend);
  const w0 = head.weight.toArray() as Float32Array;
  const b0 = head.bias.toArray()[0]!;
  const hidden = tensor(hiddenData, [2, 3, H], { requiresGrad: true });
  backward(pairwiseRewardLoss(valueHeadScores(head, hidden, pos)));
  // float64 reference of the same function.
  const f = (w: ArrayLike<number>, b: number, x: ArrayLike<number>) => {
    const r = [0, 1].map((n) => {
      let s = b;
      for (let k = 0; k < H; k++) s += w[k]! * x[(n * 3 + pos[n]!) * H + k]!;
      return s;
    });
    return refLoss(r);
  };
  const h = 1e-5;
  const gw = head.weight.grad!.toArray();
  for (let k = 0; k < H; k++) {
    const up = Array.from(w0, (v, j) => (j === k ? v + h : v));
    const down = Array.from(w0, (v, j) => (j === k ? v - h : v));
    expect(Math.abs(gw[k]! - (f(up, b0, hiddenData) - f(down, b0, hiddenData)) / (2 * h))).toBeLessThan(1e-5);
  }
  // The bias moves both rewards alike: no gradient on a difference.
  expect(Math.abs(head.bias.grad!.toArray()[0]!)).toBeLessThan(1e-6);
  const gx = hidden.grad!.toArray();
  for (let i = 0; i < hiddenData.length; i++) {
    const up = Array.from(hiddenData, (v, j) => (j === i ? v + h : v));
    const down = Array.from(hiddenData, (v, j) => (j === i ? v - h : v));
    expect(Math.abs(gx[i]! - (f(w0, b0, up) - f(w0, b0, down)) / (2 * h))).toBeLessThan(1e-5);
  }
});

test("hiddenOnly gives the states the head (and Gemma 2's soft-cap) turn into the logits", () => {
  const ids = tensor(Int32Array.from([1, 5, 9, 3, 2, 8]), [2, 3], { dtype: "i32" });
  const llama = randomModel(specOf());
  const hidden = llama.forward(ids, { hiddenOnly: true });
  expect(hidden.shape).toEqual([2, 3, llama.spec.hiddenSize]);
  const logits = llama.forward(ids);
  const viaHead = llama.lm_head ? llama.lm_head.forward(hidden) : ops.matmul(hidden, llama.model.embed_tokens.weight, { transB: true });
  const a = logits.toArray();
  const b = viaHead.toArray();
  for (let i = 0; i < a.length; i++) expect(b[i]!).toBeCloseTo(a[i]!, 5);
  expect(llama.forward(ids, { hiddenOnly: true, lastOnly: true }).shape).toEqual([2, 1, llama.spec.hiddenSize]);

  const g = randomize(gemma2.build(gemma2.fromConfig({ ...gemma2.tiny.config, num_hidden_layers: 2, vocab_size: 300 })._unsafeUnwrap()));
  const gh = g.forward(ids, { hiddenOnly: true });
  expect(gh.shape).toEqual([2, 3, g.spec.hiddenSize]);
  const capped = ops.softcap(ops.matmul(gh, (g as unknown as typeof llama).model.embed_tokens.weight, { transB: true }), g.spec.finalSoftcap).toArray();
  const gl = g.forward(ids).toArray();
  for (let i = 0; i < gl.length; i++) expect(capped[i]!).toBeCloseTo(gl[i]!, 4);
});

test("rewardModelLoss on a pairwise batch: chosen rows first, weight = pairs, metrics filled", () => {
  const model = randomModel(specOf());
  const head = createValueHead(model.spec.hiddenSize, 1, tensor([0]).backend);
  const seqs = [
    [1, 2, 3],
    [1, 2, 4, 5],
    [1, 2, 6],
    [1, 2, 7, 8, 9],
  ];
  const batch: Batch = collate(
    seqs.map((ids) => ({ inputIds: ids, labels: ids })),
    { padId: 0 },
  );
  const out = rewardModelLoss(model, head, batch);
  const r = Array.from(scoreBatch(model, head, batch).toArray());
  expect(out.tokens).toBe(2);
  expect(out.loss.item()).toBeCloseTo(refLoss(r), 5);
  expect(out.metrics).toEqual(pairwiseRewardMetrics(r));
  expect(() => rewardModelLoss(model, head, collate([{ inputIds: [1], labels: [1] }], { padId: 0 }))).toThrow(/chosen and rejected rows/);
});

test("value_head.safetensors round trip; a head for another hidden size or a missing file is an error naming the file", () => {
  const be = tensor([0]).backend;
  const head = createValueHead(16, 5, be);
  const dir = join(scratch, "rt");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const path = saveValueHead(head, dir)._unsafeUnwrap();
  expect(path).toBe(join(dir, VALUE_HEAD_FILE));
  const back = loadValueHead(dir, 16, be)._unsafeUnwrap();
  expect(Array.from(back.weight.toArray())).toEqual(Array.from(head.weight.toArray()));
  expect(Array.from(back.bias.toArray())).toEqual(Array.from(head.bias.toArray()));
  expect(loadValueHead(dir, 32, be)._unsafeUnwrapErr().message).toBe(
    `${path}: "${VALUE_HEAD_WEIGHT}" is [1, 16] but this model's hidden size needs [1, 32]: the value head was trained on a different base model`,
  );
  expect(loadValueHead(scratch, 16, be)._unsafeUnwrapErr().message).toContain(`${join(scratch, VALUE_HEAD_FILE)}: no value head there`);
  // LLaMA-Factory saves the head in the model's dtype: a bf16 file loads as f32.
  const bf = join(scratch, "bf16");
  mkdirSync(bf, { recursive: true });
  // bf16 is the top half of an f32 (exact for these values).
  const bf16 = (values: number[]) => {
    const words = new Uint32Array(Float32Array.from(values).buffer);
    return new Uint8Array(Uint16Array.from(words, (w) => w >>> 16).buffer);
  };
  writeSafetensors(join(bf, VALUE_HEAD_FILE), [
    { name: VALUE_HEAD_WEIGHT, dtype: "BF16", shape: [1, 16], data: bf16(Array.from({ length: 16 }, (_, i) => i / 4)) },
    { name: VALUE_HEAD_BIAS, dtype: "BF16", shape: [1], data: bf16([0.5]) },
  ])._unsafeUnwrap();
  const loaded = loadValueHead(bf, 16, be)._unsafeUnwrap();
  expect(loaded.weight.dtype).toBe("f32");
  expect(loaded.weight.toArray()[4]).toBe(1);
  expect(loaded.bias.toArray()[0]).toBe(0.5);
});
