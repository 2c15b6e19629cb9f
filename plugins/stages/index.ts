// The causal-LM stages: `pt` (pre-training on packed text: every token is a target) and `sft`
// (supervised fine-tuning: prompts masked by the template unless train_on_prompt). Both use the
// shifted next-token cross-entropy; they differ in their sample processors. `rm` trains a value head
// on pairwise samples (rm.ts); its head and loading are exported for the stages that score with it.
// `grpo` samples its own batches (rollouts); the rollout helpers are exported for ppo.
// `dpo` (the DPO family) trains on the pairwise samples, `kto` on the feedback samples with their KL pairs.
import { causalLmLoss, definePlugin } from "../../core/index.ts";
import { type DpoLossName, REFERENCE_FREE } from "./dpo/losses.ts";
import { dpoLoss, dpoOptions } from "./dpo/stage.ts";
import { feedbackProcessor } from "./feedback.ts";
import { grpoStage } from "./grpo.ts";
import { ktoOptions, ktoStageLoss } from "./kto/stage.ts";
import { pairwiseProcessor } from "./pairwise.ts";
import { dpoMemory, grpoMemory, ktoMemory, ppoMemory, rmMemory } from "./plan-memory.ts";
import { ppoStage } from "./ppo/stage.ts";
import { pretrainProcessor } from "./pretrain.ts";
import { referenceProblem } from "./reference.ts";
import { rmStage } from "./rm.ts";
import { supervisedProcessor } from "./supervised.ts";

export {
  AVERAGED,
  bcoBatchReward,
  DPO_LOSSES,
  type DpoLossName,
  type DpoParams,
  type PairLogps,
  type PairLosses,
  pairLoss,
  REFERENCE_FREE,
} from "./dpo/losses.ts";
export { dpoLoss, dpoOptions } from "./dpo/stage.ts";
export { feedbackProcessor, ktoSample, processFeedback } from "./feedback.ts";
export { grpoLoss, grpoOptions, grpoStage } from "./grpo.ts";
export { type GrpoLossType, type GrpoSettings, type GrpoTerms, type GrpoTokens, groupAdvantages, grpoObjective, grpoTerms } from "./grpo-loss.ts";
export { type GrpoSourceSettings, grpoBatches, type RolloutBatch, rewardFor } from "./grpo-rollouts.ts";
export { type KtoLogps, type KtoLosses, type KtoParams, klEstimate, ktoLoss } from "./kto/loss.ts";
export { ktoOptions, ktoStageLoss } from "./kto/stage.ts";
export { batchRows, hostLoss, sequenceLogps, sequenceLogpsNoGrad } from "./logps.ts";
export { pairwiseProcessor, pairwiseSample, processPairwise } from "./pairwise.ts";
export {
  freshMoments,
  gae,
  maskedMean,
  maskedWhiten,
  normaliseScores,
  type PpoSettings,
  type PpoTerms,
  type PpoTokens,
  ppoTerms,
  type RunningMoments,
  tokenRewards,
  updatedKlCoef,
} from "./ppo/math.ts";
export { ppoObjective } from "./ppo/objective.ts";
export { sequenceScores } from "./ppo/reward-source.ts";
export { type PpoBatch, ppoBatches } from "./ppo/rollouts.ts";
export { ppoCheck, ppoLoss, ppoOptions, ppoStage, preparePpo } from "./ppo/stage.ts";
export { tokenValues } from "./ppo/values.ts";
export { pretrainProcessor, pretrainText, processPretrain } from "./pretrain.ts";
export { processPromptOnly, promptOnlyProcessor, promptSample } from "./prompt-only.ts";
export { pairwiseRewardLoss, pairwiseRewardMetrics, prepareRewardModel, rewardModelLoss, rmStage } from "./rm.ts";
export {
  type Completions,
  completionTargets,
  policyLogProbs,
  referenceLogProbs,
  type SampleSettings,
  type SequenceBatch,
  sampleCompletions,
  sequenceBatch,
  tokenLogProbs,
} from "./rollout.ts";
export { encodeSupervised, processPackedSupervised, processSupervised, supervisedProcessor, supervisedSample } from "./supervised.ts";
export {
  createValueHead,
  disposeValueHead,
  lastTokenPositions,
  loadValueHead,
  modelBackend,
  saveValueHead,
  scoreBatch,
  VALUE_HEAD_BIAS,
  VALUE_HEAD_FILE,
  VALUE_HEAD_WEIGHT,
  type ValueHead,
  valueHeadScores,
} from "./value-head.ts";

export default definePlugin({
  name: "lft-stages",
  setup(api) {
    api.register.stages({
      name: "pt",
      doc: "pre-training / continued pre-training: next-token loss on packed plain text",
      processor: pretrainProcessor,
      options: {},
      loss: (model, batch) => causalLmLoss(model, batch),
    });
    api.register.stages({
      name: "sft",
      doc: "supervised fine-tuning: next-token loss on responses (prompts masked)",
      processor: supervisedProcessor,
      options: {
        train_on_prompt: { type: "boolean", default: false, doc: "learn the prompt tokens too" },
        mask_history: { type: "boolean", default: false, doc: "learn only the last turn of each conversation" },
      },
      loss: (model, batch) => causalLmLoss(model, batch),
    });
    api.register.stages({ ...grpoStage, memory: grpoMemory });
    api.register.stages({ ...rmStage, memory: rmMemory });
    api.register.stages({ ...ppoStage, memory: ppoMemory });
    api.register.stages({
      name: "dpo",
      doc: "direct preference optimisation and its family (hinge, IPO, ORPO, SimPO, BCO-pair) on chosen/rejected pairs",
      processor: pairwiseProcessor,
      options: dpoOptions,
      loss: dpoLoss,
      memory: dpoMemory,
      checkMethod: (options, method) => (REFERENCE_FREE.includes(options.loss as DpoLossName) ? undefined : referenceProblem("dpo", options, method)),
    });
    api.register.stages({
      name: "kto",
      doc: "Kahneman-Tversky optimisation on examples labelled desirable or undesirable",
      processor: feedbackProcessor,
      options: ktoOptions,
      loss: ktoStageLoss,
      memory: ktoMemory,
      checkMethod: (options, method) => referenceProblem("kto", options, method),
    });
  },
});
