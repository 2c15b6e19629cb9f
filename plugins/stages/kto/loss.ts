// KTO (Ethayarajh et al. 2024) as TRL's KTOTrainer.kto_loss, a pure function of per-sequence
// log-probs (float64, host side): z0 = max(0, mean(π_KL − ref_KL)) from the mismatched
// prompt–completion pairs (detached); desirable: w_d·(1 − σ(β(π − ref − z0))), undesirable:
// w_u·(1 − σ(β(z0 − (π − ref)))). Returns per-sample losses and their gradients w.r.t. π.
import { sigmoid } from "../dpo/math.ts";

export interface KtoLogps {
  readonly policy: readonly number[];
  readonly reference: readonly number[];
  readonly desirable: readonly boolean[];
  readonly policyKl: readonly number[];
  readonly referenceKl: readonly number[];
}

export interface KtoParams {
  readonly beta: number;
  readonly desirableWeight: number;
  readonly undesirableWeight: number;
}

export interface KtoLosses {
  readonly losses: number[];
  readonly dPolicy: number[];
  /** β(π − ref) per sample. */
  readonly rewards: number[];
  /** The clamped KL estimate z0. */
  readonly kl: number;
}

export function klEstimate(policyKl: readonly number[], referenceKl: readonly number[]): number {
  if (policyKl.length === 0) return 0;
  let s = 0;
  policyKl.forEach((p, i) => {
    s += p - referenceKl[i]!;
  });
  return Math.max(0, s / policyKl.length);
}

export function ktoLoss(lp: KtoLogps, p: KtoParams): KtoLosses {
  const kl = klEstimate(lp.policyKl, lp.referenceKl);
  const out: KtoLosses = { losses: [], dPolicy: [], rewards: [], kl };
  lp.policy.forEach((pi, i) => {
    const ratio = pi - lp.reference[i]!;
    out.rewards.push(p.beta * ratio);
    if (lp.desirable[i]) {
      const s = sigmoid(p.beta * (ratio - kl));
      out.losses.push(p.desirableWeight * (1 - s));
      out.dPolicy.push(-p.desirableWeight * p.beta * s * (1 - s));
    } else {
      const s = sigmoid(p.beta * (kl - ratio));
      out.losses.push(p.undesirableWeight * (1 - s));
      out.dPolicy.push(p.undesirableWeight * p.beta * s * (1 - s));
    }
  });
  return out;
}
