// `train kto { beta, desirable_weight, undesirable_weight, ftx }`: LLaMA-Factory's CustomKTOTrainer.
// A KTO batch holds each example's own rows, then its mismatched prompt–completion rows (the KL pairs
// the feedback processor builds), with a desirable flag per example. The policy's own rows carry
// gradients; its KL rows and every reference row run under noGrad (the reference with adapters off).
import type { Batch, CausalLM, OptionSchema, StageContext, StageLoss } from "../../../core/index.ts";
import { mean } from "../dpo/math.ts";
import { batchRows, hostLoss, sequenceLogps, sequenceLogpsNoGrad } from "../logps.ts";
import { asReference } from "../reference.ts";
import { ktoLoss } from "./loss.ts";

export const ktoOptions = {
  beta: { type: "number", min: 0, default: 0.1, doc: "β (LLaMA-Factory's pref_beta)" },
  desirable_weight: { type: "number", min: 0, default: 1, doc: "weight of desirable examples' losses (kto_chosen_weight)" },
  undesirable_weight: { type: "number", min: 0, default: 1, doc: "weight of undesirable examples' losses (kto_rejected_weight)" },
  ftx: { type: "number", min: 0, default: 0, doc: "weight of the SFT loss on desirable replies mixed in (pref_ftx)" },
  ref_model: { type: "string", doc: "a reference model folder (a second, frozen model); unset: the base with the adapters switched off" },
} satisfies OptionSchema;

export function ktoStageLoss(model: CausalLM, batch: Batch, options: Readonly<Record<string, unknown>>, ctx: StageContext): StageLoss {
  const desirableFlags = batch.desirable;
  if (!desirableFlags) throw new Error("train kto: the batch has no desirable flags; it was not built by the kto collator");
  const n = desirableFlags.length;
  const own = batchRows(batch, 0, n);
  const klRows = batchRows(batch, n, 2 * n);
  const beta = Number(options.beta ?? 0.1);
  const ftx = Number(options.ftx ?? 0);
  const desirable = Array.from(desirableFlags, (d) => d === 1);
  const policy = sequenceLogps(model, own);
  const policyKl = sequenceLogpsNoGrad(model, klRows);
  const ref = asReference("kto", model, options, ctx, (reference) => ({
    own: sequenceLogpsNoGrad(reference, own),
    kl: sequenceLogpsNoGrad(reference, klRows),
  }));
  if (ref.isErr()) throw ref.error;
  const out = ktoLoss(
    { policy: policy.values, reference: ref.value.own.values, desirable, policyKl: policyKl.values, referenceKl: ref.value.kl.values },
    { beta, desirableWeight: Number(options.desirable_weight ?? 1), undesirableWeight: Number(options.undesirable_weight ?? 1) },
  );
  const grad = out.dPolicy.map((g) => g / n);
  let value = mean(out.losses);
  const chosen = desirable.flatMap((d, i) => (d ? [i] : []));
  if (ftx > 0 && chosen.length > 0) {
    // LLaMA-Factory: losses += ftx · mean(−avg log-prob of desirable replies) / #desirable · #examples.
    const k = chosen.length;
    const avg = chosen.map((i) => policy.values[i]! / Math.max(1, policy.lengths[i]!));
    value += ((ftx * mean(avg.map((a) => -a))) / k) * n;
    for (const i of chosen) grad[i]! += (-ftx / k / Math.max(1, policy.lengths[i]!) / k) * n;
  }
  const rewardsOf = (want: boolean) => out.rewards.filter((_, i) => desirable[i] === want);
  const metrics: Record<string, number> = { kl: out.kl };
  if (chosen.length > 0) metrics["rewards/chosen"] = mean(rewardsOf(true));
  if (chosen.length < n) metrics["rewards/rejected"] = mean(rewardsOf(false));
  if (chosen.length > 0 && chosen.length < n) metrics["rewards/margins"] = metrics["rewards/chosen"]! - metrics["rewards/rejected"]!;
  const tokens = policy.lengths.reduce((a, b) => a + b, 0);
  return { loss: hostLoss(policy.logps, grad, value), tokens, weight: n, metrics };
}
