// `train rm`: a reward model, LLaMA-Factory's PairwiseTrainer. The model (with its adapter, or all or
// some of its weights) plus a value head score the chosen and the rejected reply of each pair at its
// last token; the loss is -log sigmoid(r_chosen - r_rejected), averaged over the pairs. The head is
// the stage's own trainable module (StagePrepared), saved as value_head.safetensors beside the adapter.
import { ok, type Result } from "neverthrow";
import { type Batch, type CausalLM, ops, type StageLoss, type StagePrepared, type Tensor, tensor } from "../../core/index.ts";
import { pairwiseProcessor } from "./pairwise.ts";
import {
  createValueHead,
  disposeValueHead,
  modelBackend,
  saveValueHead,
  scoreBatch,
  VALUE_HEAD_BIAS,
  VALUE_HEAD_WEIGHT,
  type ValueHead,
} from "./value-head.ts";

/**
 * rewards [2B] (chosen rows first, then rejected, as the pairwise collator lays them out) -> the mean
 * of -log sigmoid(r_c - r_r). Written as a two-way cross-entropy with the chosen reply as the target
 * (-log softmax([r_c, r_r])[0] is exactly that), which is stable for any margin.
 */
export function pairwiseRewardLoss(rewards: Tensor): Tensor {
  const N = rewards.shape[0]!;
  if (rewards.ndim !== 1 || N % 2 !== 0)
    throw new Error(`pairwise reward loss: rewards must be [2B] (chosen rows, then rejected), got [${rewards.shape.join(", ")}]`);
  const B = N / 2;
  const chosen = ops.reshape(ops.slice(rewards, 0, 0, B), [B, 1]);
  const rejected = ops.reshape(ops.slice(rewards, 0, B, N), [B, 1]);
  const logits = ops.concat([chosen, rejected], 1);
  return ops.crossEntropy(logits, tensor(new Int32Array(B), [B], { dtype: "i32", backend: rewards.backend }));
}

/** Host-side metrics of a pair batch's rewards: accuracy (r_c > r_r, as LLaMA-Factory's compute_accuracy) and the means. */
export function pairwiseRewardMetrics(rewards: ArrayLike<number>): Record<string, number> {
  const B = rewards.length / 2;
  let correct = 0;
  let chosen = 0;
  let rejected = 0;
  for (let i = 0; i < B; i++) {
    const c = rewards[i]!;
    const r = rewards[B + i]!;
    if (c > r) correct++;
    chosen += c;
    rejected += r;
  }
  return { accuracy: correct / B, "rewards/chosen": chosen / B, "rewards/rejected": rejected / B, "rewards/margins": (chosen - rejected) / B };
}

/** One pair batch through the model and head to the pairwise loss, its metrics, and the pair count as the weight. */
export function rewardModelLoss(model: CausalLM, head: ValueHead, batch: Batch): StageLoss {
  if (batch.batchSize % 2 !== 0) throw new Error(`rm: a pairwise batch has chosen and rejected rows (2B), got ${batch.batchSize} rows`);
  const rewards = scoreBatch(model, head, batch);
  const loss = pairwiseRewardLoss(rewards);
  return { loss, tokens: batch.batchSize / 2, metrics: pairwiseRewardMetrics(rewards.toArray() as ArrayLike<number>) };
}

/** The value head as a stage-owned module: trained beside the method's parameters, saved beside its result. */
export function prepareRewardModel(model: CausalLM, seed: number): Result<StagePrepared, Error> {
  const head = createValueHead(model.spec.hiddenSize, seed, modelBackend(model));
  return ok({
    params: { [VALUE_HEAD_WEIGHT]: head.weight, [VALUE_HEAD_BIAS]: head.bias },
    loss: (m, batch) => rewardModelLoss(m, head, batch),
    save: (dir) => saveValueHead(head, dir).map((p) => [p]),
    dispose: () => disposeValueHead(head),
  });
}

export const rmStage = {
  name: "rm",
  doc: "reward modelling: a value head on the last token, pairwise loss -log sigmoid(r_chosen - r_rejected); writes value_head.safetensors",
  processor: pairwiseProcessor,
  options: {},
  loss(): StageLoss {
    throw new Error("rm trains a value head: the runner prepares it (StageEntry.prepare) and calls the prepared loss");
  },
  prepare: (model: CausalLM, _options: Readonly<Record<string, unknown>>, ctx: { seed: number }) => prepareRewardModel(model, ctx.seed),
};
