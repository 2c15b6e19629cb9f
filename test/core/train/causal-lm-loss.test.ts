// causalLmLoss fuses a plain output layer with cross-entropy (CausalLM.outputWeight): for llama (tied and
// untied), qwen3, and the families whose head is not a plain matrix (granite's logit scaling, gemma2's
// soft cap, an adapter on lm_head) the loss and every parameter's gradient equal cross-entropy over
// forward's logits, and only the plain heads offer their weight.
import { expect, test } from "bun:test";
import { type Batch, backward, type CausalLM, causalLmLoss, IGNORE_INDEX, type ModelFamily, ops, tensor, tidy } from "../../../lft.ts";
import { gemma2 } from "../../../plugins/models/gemma2.ts";
import { granite } from "../../../plugins/models/granite.ts";
import type { LlamaForCausalLM } from "../../../plugins/models/llama.ts";
import { llama } from "../../../plugins/models/llama.ts";
import { qwen3 } from "../../../plugins/models/qwen3.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomFamilyModel, smallConfig } from "../../plugins/models/family-checks.ts";

const B = 2;
const T = 6;

function batch(): Batch {
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % 64);
  const labels = ids.map((x, i) => (i % T < 2 ? IGNORE_INDEX : x));
  return {
    batchSize: B,
    seqLen: T,
    inputIds: ids,
    labels,
    attentionMask: new Int32Array(B * T).fill(1),
    positionIds: Int32Array.from({ length: B * T }, (_, k) => k % T),
    segmentIds: null,
  };
}

/** Loss and flattened parameter gradients, through causalLmLoss (fused when the head allows) or the logits. */
function lossAndGrads(model: CausalLM, viaLogits: boolean): { loss: number; grads: Float64Array } {
  const params = model.parameters();
  for (const p of params) p.requiresGrad = true;
  return tidy(() => {
    const b = batch();
    let loss: ReturnType<typeof causalLmLoss>["loss"];
    if (viaLogits) {
      const targets = Int32Array.from({ length: B * T }, (_, i) => (i % T === T - 1 ? IGNORE_INDEX : b.labels[i + 1]!));
      const logits = model.forward(tensor(b.inputIds, [B, T], { dtype: "i32" }));
      loss = ops.crossEntropy(ops.reshape(logits, [B * T, logits.shape[2]!]), tensor(targets, [B * T], { dtype: "i32" }));
    } else loss = causalLmLoss(model, b).loss;
    backward(loss);
    const grads = Float64Array.from(params.flatMap((p) => [...p.grad!.toArray()]));
    for (const p of params) {
      p.grad?.dispose();
      p.grad = null;
    }
    return { loss: loss.toArray()[0]!, grads };
  });
}

function check(family: ModelFamily, over: Record<string, unknown>, plain: boolean, adapt?: (m: CausalLM) => void): void {
  const model = randomFamilyModel(family, smallConfig(family, over), 4);
  adapt?.(model);
  expect(model.outputWeight() !== null).toBe(plain);
  const fused = lossAndGrads(model, false);
  const ref = lossAndGrads(model, true);
  expect(Math.abs(fused.loss - ref.loss)).toBeLessThan(1e-5 * Math.abs(ref.loss));
  expectClose(fused.grads, ref.grads, 1e-4, "parameter gradients");
  model.dispose();
}

test("llama with an untied and a tied head: fused loss and gradients equal the logits path", () => {
  check(llama, { tie_word_embeddings: false }, true);
  check(llama, { tie_word_embeddings: true }, true);
});

test("qwen3 (q/k norms) takes the fused path with the same loss and gradients", () => {
  check(qwen3, {}, true);
});

test("heads that are not a plain matrix keep the logits path: granite's scaling, gemma2's soft cap, an adapter on lm_head", () => {
  check(granite, {}, false);
  check(gemma2, { final_logit_softcapping: 5 }, false);
  check(llama, { tie_word_embeddings: false }, false, (m) => {
    (m as LlamaForCausalLM).lm_head!.adapter = { forward: (_x, y) => ops.scale(y, 1.5) };
  });
});
