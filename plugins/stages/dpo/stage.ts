// `train dpo { loss = sigmoid | hinge | ipo | orpo | simpo | bco_pair, beta, ftx, label_smoothing,
// simpo_gamma }`: LLaMA-Factory's CustomDPOTrainer. A pairwise batch (chosen rows, then rejected rows)
// goes through the policy once with gradients and, for losses with a reference, once more with the
// adapters off under noGrad; the loss is computed on the per-sequence log-probs on the host and its
// gradient carried back through the graph.
import type { Batch, CausalLM, OptionSchema, StageContext, StageLoss } from "../../../core/index.ts";
import { hostLoss, sequenceLogps, sequenceLogpsNoGrad } from "../logps.ts";
import { asReference } from "../reference.ts";
import { AVERAGED, bcoBatchReward, DPO_LOSSES, type DpoLossName, type PairLogps, pairLoss, REFERENCE_FREE } from "./losses.ts";
import { mean } from "./math.ts";

export const dpoOptions = {
  loss: { type: "enum", values: DPO_LOSSES, default: "sigmoid", doc: "the preference loss (LLaMA-Factory's pref_loss)" },
  beta: { type: "number", min: 0, default: 0.1, doc: "β: the strength of the reference's pull (LLaMA-Factory's pref_beta)" },
  ftx: { type: "number", min: 0, default: 0, doc: "weight of the SFT loss on the chosen reply mixed in (LLaMA-Factory's pref_ftx)" },
  label_smoothing: { type: "number", min: 0, max: 0.5, default: 0, doc: "sigmoid loss: robust/conservative DPO label smoothing (dpo_label_smoothing)" },
  simpo_gamma: { type: "number", default: 0.5, doc: "simpo: the target reward margin γ" },
  ref_model: { type: "string", doc: "a reference model folder (a second, frozen model); unset: the base with the adapters switched off" },
} satisfies OptionSchema;

/** bco_pair's baseline: the running mean of the batch rewards over the run (TRL's RunningMoments.mean). */
class RunningMean {
  mean = 0;
  count = 1e-24;
  update(x: number): number {
    const total = this.count + 1;
    this.mean += (x - this.mean) / total;
    this.count = total;
    return this.mean;
  }
}
const baselines = new WeakMap<object, RunningMean>();

export function dpoLoss(model: CausalLM, batch: Batch, options: Readonly<Record<string, unknown>>, ctx: StageContext): StageLoss {
  const name = (options.loss ?? "sigmoid") as DpoLossName;
  const beta = Number(options.beta ?? 0.1);
  const ftx = Number(options.ftx ?? 0);
  const pairs = batch.batchSize / 2;
  const policy = sequenceLogps(model, batch);
  const averaged = AVERAGED.includes(name);
  const per = (v: readonly number[], lengths: readonly number[]) => v.map((x, i) => (averaged ? x / Math.max(1, lengths[i]!) : x));
  const pol = per(policy.values, policy.lengths);
  let ref: number[] | undefined;
  if (!REFERENCE_FREE.includes(name)) {
    const r = asReference("dpo", model, options, ctx, (reference) => sequenceLogpsNoGrad(reference, batch));
    if (r.isErr()) throw r.error;
    ref = per(r.value.values, r.value.lengths);
  }
  const lp: PairLogps = {
    chosen: pol.slice(0, pairs),
    rejected: pol.slice(pairs),
    ...(ref ? { refChosen: ref.slice(0, pairs), refRejected: ref.slice(pairs) } : {}),
  };
  let bcoDelta = 0;
  if (name === "bco_pair") {
    const key = ctx.method ?? model;
    const running = baselines.get(key) ?? new RunningMean();
    baselines.set(key, running);
    bcoDelta = running.update(bcoBatchReward(lp, beta));
  }
  const out = pairLoss[name](lp, { beta, labelSmoothing: Number(options.label_smoothing ?? 0), simpoGamma: Number(options.simpo_gamma ?? 0.5), bcoDelta });
  // ∂/∂(summed log-prob): the averaged losses divide by the row's length.
  const scaleOf = (i: number) => (averaged ? 1 / Math.max(1, policy.lengths[i]!) : 1);
  const grad = new Array<number>(2 * pairs).fill(0);
  const losses = [...out.losses];
  for (let i = 0; i < pairs; i++) {
    grad[i] = (out.dChosen[i]! * scaleOf(i)) / pairs;
    grad[pairs + i] = (out.dRejected[i]! * scaleOf(pairs + i)) / pairs;
    if (ftx > 0) {
      // LLaMA-Factory: losses += ftx · (−mean log-prob of the chosen reply's tokens).
      const len = Math.max(1, policy.lengths[i]!);
      losses[i]! += (ftx * -policy.values[i]!) / len;
      grad[i]! += -ftx / len / pairs;
    }
  }
  const value = mean(losses);
  const { chosenRewards: cr, rejectedRewards: rr } = out;
  const metrics: Record<string, number> = {
    "rewards/chosen": mean(cr),
    "rewards/rejected": mean(rr),
    "rewards/accuracies": mean(cr.map((c, i) => (c > rr[i]! ? 1 : 0))),
    "rewards/margins": mean(cr.map((c, i) => c - rr[i]!)),
    "logps/chosen": mean(lp.chosen),
    "logps/rejected": mean(lp.rejected),
  };
  if (name === "orpo") {
    const sft = lp.chosen.map((c) => -c);
    metrics.sft_loss = mean(sft);
    metrics.odds_ratio_loss = mean(out.losses.map((l, i) => (l - sft[i]!) / beta));
  }
  const tokens = policy.lengths.reduce((a, b) => a + b, 0);
  return { loss: hostLoss(policy.logps, grad, value), tokens, weight: pairs, metrics };
}
