// The `grpo` stage (Group Relative Policy Optimization, DeepSeekMath; option names after TRL's
// GRPOTrainer): prompt-only samples, a batch source that samples `group` completions per prompt and
// scores them with a reward-function plugin, and the clipped, KL-regularised loss on the rollouts.
// No value model; the reference is the base with the adapters off (method lora), so beta > 0 needs it.
import type { CausalLM, OptionSchema, StageEntry, StageLoss } from "../../core/index.ts";
import { type GrpoLossType, type GrpoTerms, grpoObjective } from "./grpo-loss.ts";
import { grpoBatches, type RolloutBatch } from "./grpo-rollouts.ts";
import { promptOnlyProcessor } from "./prompt-only.ts";
import { completionTargets, tokenLogProbs } from "./rollout.ts";

export const grpoOptions = {
  reward: { type: "string", required: true, doc: "the reward function scoring each completion (exact_match, regex, length, or a plugin's)" },
  group: { type: "number", integer: true, min: 2, default: 4, doc: "completions sampled per prompt (TRL num_generations)" },
  max_new_tokens: { type: "number", integer: true, min: 1, default: 32, doc: "longest completion in tokens (TRL max_completion_length)" },
  temperature: { type: "number", min: 0.01, default: 1, doc: "sampling temperature of the rollouts (the log-probs use it too)" },
  top_p: { type: "number", min: 0.01, max: 1, default: 1, doc: "nucleus sampling of the rollouts" },
  top_k: { type: "number", integer: true, min: 0, default: 0, doc: "top-k sampling of the rollouts (0: off)" },
  beta: { type: "number", min: 0, default: 0.04, doc: "KL coefficient to the reference (0: no reference needed)" },
  epsilon: { type: "number", min: 0, default: 0.2, doc: "clip range of the policy ratio (lower side, and upper unless epsilon_high)" },
  epsilon_high: { type: "number", min: 0, doc: "upper clip range (DAPO's clip-higher); default epsilon" },
  num_iterations: { type: "number", integer: true, min: 1, default: 1, doc: "updates per rollout (TRL num_iterations; the ratio is 1 when 1)" },
  loss_type: {
    type: "enum",
    values: ["grpo", "bnpo", "dr_grpo"],
    default: "bnpo",
    doc: "normalisation: per sequence (grpo), over the batch's tokens (bnpo), by batch × max_new_tokens (dr_grpo)",
  },
  scale_rewards: { type: "boolean", default: true, doc: "divide the group-relative advantages by the group's std" },
} as const satisfies OptionSchema;

const num = (v: unknown, fallback: number): number => (typeof v === "number" ? v : fallback);

export function grpoLoss(model: CausalLM, batch: RolloutBatch, o: Readonly<Record<string, unknown>>): StageLoss {
  const temperature = num(o.temperature, 1);
  const epsilon = num(o.epsilon, 0.2);
  const { mask } = completionTargets(batch);
  const logps = tokenLogProbs(model, batch, temperature);
  let terms: GrpoTerms | undefined;
  const loss = grpoObjective(
    logps,
    { rows: batch.batchSize, seqLen: batch.seqLen, mask, oldLogps: batch.oldLogps, refLogps: batch.refLogps, advantages: batch.advantages },
    {
      beta: num(o.beta, 0.04),
      epsilonLow: epsilon,
      epsilonHigh: num(o.epsilon_high, epsilon),
      lossType: (o.loss_type ?? "bnpo") as GrpoLossType,
      maxCompletionLength: num(o.max_new_tokens, 32),
    },
    (t) => {
      terms = t;
    },
  );
  const tokens = mask.reduce((a, b) => a + b, 0);
  return { loss, tokens, metrics: { ...batch.rolloutMetrics, ...(batch.refLogps ? { kl: terms!.kl } : {}), "clip_ratio/region_mean": terms!.clipRatio } };
}

export const grpoStage: StageEntry = {
  name: "grpo",
  doc: "group relative policy optimization: sampled groups scored by a reward function, no value model",
  processor: promptOnlyProcessor,
  options: grpoOptions,
  loss: (model, batch, options) => grpoLoss(model, batch as RolloutBatch, options),
  batches: (input) =>
    grpoBatches(input, {
      group: num(input.options.group, 4),
      maxNewTokens: num(input.options.max_new_tokens, 32),
      temperature: num(input.options.temperature, 1),
      topP: num(input.options.top_p, 1),
      topK: num(input.options.top_k, 0),
      beta: num(input.options.beta, 0.04),
      numIterations: num(input.options.num_iterations, 1),
      scaleRewards: input.options.scale_rewards !== false,
    }),
};
