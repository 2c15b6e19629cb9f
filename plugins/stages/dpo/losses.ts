// The DPO family as pure functions of per-sequence log-probs (float64, host side), each returning the
// per-pair losses, their gradients with respect to the policy's chosen and rejected log-probs, and the
// implicit rewards LLaMA-Factory/TRL log. Formulas as TRL's DPOTrainer.dpo_loss and LLaMA-Factory's
// CustomDPOTrainer (odds_ratio_loss, simpo_loss). The stage turns the gradients into a graph.
import { logSigmoid, sigmoid } from "./math.ts";

export const DPO_LOSSES = ["sigmoid", "hinge", "ipo", "orpo", "simpo", "bco_pair"] as const;
export type DpoLossName = (typeof DPO_LOSSES)[number];

/** Losses that need no reference model (LLaMA-Factory's use_ref_model = false). */
export const REFERENCE_FREE: readonly DpoLossName[] = ["orpo", "simpo"];
/** Losses on length-averaged log-probs (LLaMA-Factory: ipo, orpo, simpo); the rest use sums. */
export const AVERAGED: readonly DpoLossName[] = ["ipo", "orpo", "simpo"];

export interface PairLogps {
  readonly chosen: readonly number[];
  readonly rejected: readonly number[];
  /** The reference's log-probs (absent for orpo and simpo). */
  readonly refChosen?: readonly number[];
  readonly refRejected?: readonly number[];
}

export interface DpoParams {
  readonly beta: number;
  readonly labelSmoothing: number;
  readonly simpoGamma: number;
  /** bco_pair's baseline δ: the running mean of the rewards, already updated with this batch's. */
  readonly bcoDelta: number;
}

export interface PairLosses {
  readonly losses: number[];
  /** ∂loss_i/∂chosen_i and ∂loss_i/∂rejected_i. */
  readonly dChosen: number[];
  readonly dRejected: number[];
  readonly chosenRewards: number[];
  readonly rejectedRewards: number[];
}

function refOf(lp: PairLogps, name: DpoLossName): { rc: readonly number[]; rr: readonly number[] } {
  if (!lp.refChosen || !lp.refRejected) throw new Error(`dpo loss ${name} needs the reference model's log-probs`);
  return { rc: lp.refChosen, rr: lp.refRejected };
}

/** TRL's logits h = (π_c − π_r) − (ref_c − ref_r) and a loss of h: ℓ(h), dℓ/dh. */
function onLogits(lp: PairLogps, p: DpoParams, name: DpoLossName, f: (h: number) => [number, number]): PairLosses {
  const { rc, rr } = refOf(lp, name);
  const out: PairLosses = { losses: [], dChosen: [], dRejected: [], chosenRewards: [], rejectedRewards: [] };
  lp.chosen.forEach((c, i) => {
    const r = lp.rejected[i]!;
    const h = c - r - (rc[i]! - rr[i]!);
    const [l, dh] = f(h);
    out.losses.push(l);
    out.dChosen.push(dh);
    out.dRejected.push(-dh);
    out.chosenRewards.push(p.beta * (c - rc[i]!));
    out.rejectedRewards.push(p.beta * (r - rr[i]!));
  });
  return out;
}

/** −(1−ε) log σ(βh) − ε log σ(−βh) (ε: label smoothing, the conservative DPO of TRL). */
export function sigmoidLoss(lp: PairLogps, p: DpoParams): PairLosses {
  const { beta: b, labelSmoothing: e } = p;
  return onLogits(lp, p, "sigmoid", (h) => [-(1 - e) * logSigmoid(b * h) - e * logSigmoid(-b * h), -(1 - e) * b * sigmoid(-b * h) + e * b * sigmoid(b * h)]);
}

/** max(0, 1 − βh) (SLiC's hinge). */
export function hingeLoss(lp: PairLogps, p: DpoParams): PairLosses {
  return onLogits(lp, p, "hinge", (h) => (1 - p.beta * h > 0 ? [1 - p.beta * h, -p.beta] : [0, 0]));
}

/** (h − 1/(2β))² (IPO, on length-averaged log-probs). */
export function ipoLoss(lp: PairLogps, p: DpoParams): PairLosses {
  const t = 1 / (2 * p.beta);
  return onLogits(lp, p, "ipo", (h) => [(h - t) ** 2, 2 * (h - t)]);
}

/**
 * BCO-pair: −log σ(β(π_c − ref_c) − δ) − log σ(−(β(π_r − ref_r) − δ)), δ the running mean of the
 * rewards (treated as a constant, as TRL's RunningMoments detaches it).
 */
export function bcoPairLoss(lp: PairLogps, p: DpoParams): PairLosses {
  const { rc, rr } = refOf(lp, "bco_pair");
  const { beta: b, bcoDelta: d } = p;
  const out: PairLosses = { losses: [], dChosen: [], dRejected: [], chosenRewards: [], rejectedRewards: [] };
  lp.chosen.forEach((c, i) => {
    const cr = b * (c - rc[i]!);
    const rj = b * (lp.rejected[i]! - rr[i]!);
    out.losses.push(-logSigmoid(cr - d) - logSigmoid(-(rj - d)));
    out.dChosen.push(-b * sigmoid(-(cr - d)));
    out.dRejected.push(b * sigmoid(rj - d));
    out.chosenRewards.push(cr);
    out.rejectedRewards.push(rj);
  });
  return out;
}

/** The mean reward of a batch that bco_pair's running baseline is updated with (TRL: cat(chosen, rejected).mean()). */
export function bcoBatchReward(lp: PairLogps, beta: number): number {
  const { rc, rr } = refOf(lp, "bco_pair");
  let s = 0;
  lp.chosen.forEach((c, i) => {
    s += beta * (c - rc[i]!) + beta * (lp.rejected[i]! - rr[i]!);
  });
  return s / (2 * lp.chosen.length);
}

/**
 * ORPO (LLaMA-Factory's odds_ratio_loss, length-averaged log-probs): −π_c + β·(−log σ(log odds)),
 * log odds = (π_c − π_r) − (log(1 − e^π_c) − log(1 − e^π_r)). No reference.
 */
export function orpoLoss(lp: PairLogps, p: DpoParams): PairLosses {
  const b = p.beta;
  const out: PairLosses = { losses: [], dChosen: [], dRejected: [], chosenRewards: [], rejectedRewards: [] };
  lp.chosen.forEach((c, i) => {
    const r = lp.rejected[i]!;
    const lo = c - r - (Math.log1p(-Math.exp(c)) - Math.log1p(-Math.exp(r)));
    const s = sigmoid(-lo);
    out.losses.push(-c - b * logSigmoid(lo));
    out.dChosen.push(-1 - (b * s) / -Math.expm1(c));
    out.dRejected.push((b * s) / -Math.expm1(r));
    out.chosenRewards.push(b * c);
    out.rejectedRewards.push(b * r);
  });
  return out;
}

/** SimPO (length-averaged log-probs, no reference): −log σ(β(π_c − π_r) − γ). */
export function simpoLoss(lp: PairLogps, p: DpoParams): PairLosses {
  const { beta: b, simpoGamma: g } = p;
  const out: PairLosses = { losses: [], dChosen: [], dRejected: [], chosenRewards: [], rejectedRewards: [] };
  lp.chosen.forEach((c, i) => {
    const r = lp.rejected[i]!;
    const z = b * (c - r) - g;
    out.losses.push(-logSigmoid(z));
    out.dChosen.push(-b * sigmoid(-z));
    out.dRejected.push(b * sigmoid(-z));
    out.chosenRewards.push(b * c);
    out.rejectedRewards.push(b * r);
  });
  return out;
}

export const pairLoss: Readonly<Record<DpoLossName, (lp: PairLogps, p: DpoParams) => PairLosses>> = {
  sigmoid: sigmoidLoss,
  hinge: hingeLoss,
  ipo: ipoLoss,
  orpo: orpoLoss,
  simpo: simpoLoss,
  bco_pair: bcoPairLoss,
};
