// The `ppo` stage with LLaMA-Factory's model sharing: policy = base + the trained LoRA adapter; value
// = the same adapter + a value head (this stage's own trainable module, saved as value_head.safetensors
// beside the adapter, as LF does); reward = a reward adapter + head from `train rm` switched in on the
// same base (reward_model_type lora), a full reward model folder, or a reward function; reference =
// the base with the adapters off. Option names are LLaMA-Factory's (ppo_*) and trl 0.9's PPOConfig's.
import { ok, type Result } from "neverthrow";
import type { Batch, CausalLM, OptionSchema, StageEntry, StageLoss, StagePrepared } from "../../../core/index.ts";
import { promptOnlyProcessor } from "../prompt-only.ts";
import { referenceProblem } from "../reference.ts";
import { tokenLogProbs } from "../rollout.ts";
import { createValueHead, disposeValueHead, modelBackend, saveValueHead, VALUE_HEAD_BIAS, VALUE_HEAD_WEIGHT, type ValueHead } from "../value-head.ts";
import { runDisposers } from "./cleanup.ts";
import type { PpoTerms } from "./math.ts";
import { ppoObjective } from "./objective.ts";
import { type PpoBatch, ppoBatches } from "./rollouts.ts";
import { tokenValues } from "./values.ts";

export const ppoOptions = {
  reward_model: { type: "string", doc: "a `train rm` output folder: reward adapter (or full model) + value_head.safetensors" },
  reward_model_type: {
    type: "enum",
    values: ["lora", "full"],
    default: "lora",
    doc: "lora: switch the reward adapter in on the shared base; full: a second, frozen model",
  },
  reward: { type: "string", doc: "a reward function instead of a reward model (exact_match, regex, length, a plugin's)" },
  max_new_tokens: { type: "number", integer: true, min: 1, default: 32, doc: "longest sampled response in tokens" },
  temperature: { type: "number", min: 0.01, default: 1, doc: "sampling temperature of the rollouts (the log-probs use it too)" },
  top_p: { type: "number", min: 0.01, max: 1, default: 1, doc: "nucleus sampling of the rollouts" },
  top_k: { type: "number", integer: true, min: 0, default: 0, doc: "top-k sampling of the rollouts (0: off)" },
  ppo_buffer_size: { type: "number", integer: true, min: 1, default: 1, doc: "mini-batches of `batch` prompts per rollout (LF ppo_buffer_size)" },
  ppo_epochs: { type: "number", integer: true, min: 1, default: 4, doc: "optimisation passes over each rollout (LF ppo_epochs)" },
  ppo_target: { type: "number", min: 0, default: 6, doc: "target KL of the adaptive KL controller (LF ppo_target)" },
  ppo_score_norm: { type: "boolean", default: false, doc: "normalise scores by their running mean and std (LF ppo_score_norm)" },
  ppo_whiten_rewards: { type: "boolean", default: false, doc: "whiten the per-token rewards before GAE (LF ppo_whiten_rewards)" },
  init_kl_coef: { type: "number", min: 0, default: 0.2, doc: "starting KL penalty coefficient (trl)" },
  adap_kl_ctrl: { type: "boolean", default: true, doc: "adapt the KL coefficient towards ppo_target (false: fixed)" },
  horizon: { type: "number", min: 1, default: 10000, doc: "the adaptive KL controller's horizon (trl)" },
  gamma: { type: "number", min: 0, max: 1, default: 1, doc: "discount of GAE" },
  lam: { type: "number", min: 0, max: 1, default: 0.95, doc: "lambda of GAE" },
  cliprange: { type: "number", min: 0, default: 0.2, doc: "clip range of the policy ratio" },
  cliprange_value: { type: "number", min: 0, default: 0.2, doc: "clip range of the value prediction around the rollout's value" },
  vf_coef: { type: "number", min: 0, default: 0.1, doc: "weight of the value loss" },
} as const satisfies OptionSchema;

const num = (v: unknown, fallback: number): number => (typeof v === "number" ? v : fallback);

/** One PPO mini-batch: policy log-probs and critic values (both with graphs) through the clipped losses. */
export function ppoLoss(model: CausalLM, head: ValueHead, batch: PpoBatch, o: Readonly<Record<string, unknown>>): StageLoss {
  const logps = tokenLogProbs(model, batch, num(o.temperature, 1));
  const values = tokenValues(model, head, batch);
  let terms: PpoTerms | undefined;
  const loss = ppoObjective(
    logps,
    values,
    { mask: batch.mask, oldLogps: batch.oldLogps, oldValues: batch.oldValues, advantages: batch.advantages, returns: batch.returns },
    { cliprange: num(o.cliprange, 0.2), cliprangeValue: num(o.cliprange_value, 0.2), vfCoef: num(o.vf_coef, 0.1) },
    (t) => {
      terms = t;
    },
  );
  const tokens = batch.mask.reduce((a, b) => a + b, 0);
  return {
    loss,
    tokens,
    metrics: {
      ...batch.rolloutMetrics,
      "ppo/loss/policy": terms!.policyLoss,
      "ppo/loss/value": terms!.valueLoss,
      "ppo/loss/total": terms!.loss,
      "ppo/policy/clipfrac": terms!.policyClipfrac,
      "ppo/val/clipfrac": terms!.valueClipfrac,
      "ppo/policy/approxkl": terms!.approxKl,
    },
  };
}

/** The critic's value head as a stage-owned module, saved beside the adapter. */
export function preparePpo(model: CausalLM, options: Readonly<Record<string, unknown>>, seed: number): Result<StagePrepared, Error> {
  const head = createValueHead(model.spec.hiddenSize, seed, modelBackend(model));
  const prepared: StagePrepared = {
    params: { [VALUE_HEAD_WEIGHT]: head.weight, [VALUE_HEAD_BIAS]: head.bias },
    loss: (m: CausalLM, batch: Batch) => ppoLoss(m, head, batch as PpoBatch, options),
    save: (dir: string) => saveValueHead(head, dir).map((p) => [p]),
    dispose: () => {
      runDisposers(prepared);
      disposeValueHead(head);
    },
  };
  return ok(prepared);
}

/** What `lft check` says of a PPO block: a reward source, and a method whose adapters give the reference. */
export function ppoCheck(options: Readonly<Record<string, unknown>>, method: { name: string; options: Readonly<Record<string, unknown>> }): string | undefined {
  const model = typeof options.reward_model === "string" && options.reward_model !== "";
  const fn = typeof options.reward === "string" && options.reward !== "";
  if (!model && !fn)
    return 'train ppo needs a reward source: reward_model = "a train rm output folder" (reward_model_type = lora | full), or reward = exact_match (a reward function)';
  if (model && fn) return "train ppo: give reward_model or reward, not both";
  const ref = referenceProblem("ppo", {}, method);
  if (ref) return ref.replace(/, give a reference model folder.*$/, "; ppo shares one base between policy, reference and value");
  return undefined;
}

export const ppoStage: StageEntry = {
  name: "ppo",
  doc: "PPO with model sharing: policy and critic share the LoRA adapter, the reference is the base with adapters off, the reward an rm adapter switched in (or a reward function)",
  processor: promptOnlyProcessor,
  options: ppoOptions,
  loss(): StageLoss {
    throw new Error("ppo trains a value head: the runner prepares it (StageEntry.prepare) and calls the prepared loss");
  },
  prepare: (model, options, ctx) => preparePpo(model, options, ctx.seed),
  checkMethod: ppoCheck,
  batches: (input) =>
    ppoBatches(input, {
      maxNewTokens: num(input.options.max_new_tokens, 32),
      temperature: num(input.options.temperature, 1),
      topP: num(input.options.top_p, 1),
      topK: num(input.options.top_k, 0),
      bufferSize: num(input.options.ppo_buffer_size, 1),
      epochs: num(input.options.ppo_epochs, 4),
      gamma: num(input.options.gamma, 1),
      lam: num(input.options.lam, 0.95),
      initKlCoef: num(input.options.init_kl_coef, 0.2),
      adaptiveKl: input.options.adap_kl_ctrl !== false,
      target: num(input.options.ppo_target, 6),
      horizon: num(input.options.horizon, 10000),
      scoreNorm: input.options.ppo_score_norm === true,
      whitenRewards: input.options.ppo_whiten_rewards === true,
    }),
};
