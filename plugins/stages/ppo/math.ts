// PPO's arithmetic as trl 0.9's PPOTrainer (which LLaMA-Factory's CustomPPOTrainer drives) does it, in
// float64 on the host over [rows × seqLen] per-token values: the per-token rewards (−β·KL plus the
// sequence's score on its last token), GAE, masked whitening, running score moments, the adaptive or
// fixed KL controller, and the clipped policy + value loss with its analytic gradient.

/** trl's masked_mean over positions with mask 1. */
export function maskedMean(x: ArrayLike<number>, mask: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++)
    if (mask[i]) {
      s += x[i]!;
      n++;
    }
  return n > 0 ? s / n : 0;
}

/** trl's masked_whiten: (x − mean)/sqrt(unbiased var + 1e-8), mean added back unless shiftMean; 0 off the mask. */
export function maskedWhiten(x: ArrayLike<number>, mask: ArrayLike<number>, shiftMean = true): Float64Array {
  const mean = maskedMean(x, mask);
  let n = 0;
  let sq = 0;
  for (let i = 0; i < x.length; i++)
    if (mask[i]) {
      sq += (x[i]! - mean) ** 2;
      n++;
    }
  const variance = n > 1 ? sq / n / ((n - 1) / n) : sq / Math.max(n, 1);
  const inv = 1 / Math.sqrt(variance + 1e-8);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) if (mask[i]) out[i] = (x[i]! - mean) * inv + (shiftMean ? 0 : mean);
  return out;
}

/**
 * Per-token rewards: −klCoef·(logp − ref) on every completion position, plus the sequence's score on
 * its last one (trl's compute_rewards with kl_penalty "kl"). Returns the rewards and each row's KL sum.
 */
export function tokenRewards(
  rows: number,
  seqLen: number,
  mask: Uint8Array,
  logps: ArrayLike<number>,
  refLogps: ArrayLike<number> | null,
  scores: ArrayLike<number>,
  klCoef: number,
): { rewards: Float64Array; klPerRow: Float64Array; nonScorePerRow: Float64Array } {
  const rewards = new Float64Array(rows * seqLen);
  const klPerRow = new Float64Array(rows);
  const nonScorePerRow = new Float64Array(rows);
  for (let b = 0; b < rows; b++) {
    let last = -1;
    for (let i = b * seqLen; i < (b + 1) * seqLen; i++) {
      if (!mask[i]) continue;
      const kl = refLogps ? logps[i]! - refLogps[i]! : 0;
      rewards[i] = -klCoef * kl;
      klPerRow[b]! += kl;
      nonScorePerRow[b]! += rewards[i]!;
      last = i;
    }
    if (last >= 0) rewards[last]! += scores[b]!;
  }
  return { rewards, klPerRow, nonScorePerRow };
}

/**
 * Generalised advantage estimation (Schulman et al. 2016) per row over its completion positions (value
 * 0 after the last), returns = advantages + values, then advantages whitened over the batch (trl's
 * compute_advantages). With whitenRewards the rewards are whitened first without shifting their mean.
 */
export function gae(
  rows: number,
  seqLen: number,
  mask: Uint8Array,
  rewardsIn: ArrayLike<number>,
  values: ArrayLike<number>,
  gamma: number,
  lam: number,
  whitenRewards: boolean,
): { advantages: Float64Array; returns: Float64Array } {
  const rewards = whitenRewards ? maskedWhiten(rewardsIn, mask, false) : rewardsIn;
  const raw = new Float64Array(rows * seqLen);
  const returns = new Float64Array(rows * seqLen);
  for (let b = 0; b < rows; b++) {
    let next = 0;
    let last = 0;
    for (let i = (b + 1) * seqLen - 1; i >= b * seqLen; i--) {
      if (!mask[i]) continue;
      const delta = rewards[i]! + gamma * next - values[i]!;
      last = delta + gamma * lam * last;
      raw[i] = last;
      returns[i] = last + values[i]!;
      next = values[i]!;
    }
  }
  return { advantages: maskedWhiten(raw, mask), returns };
}

/** trl's RunningMoments (score normalisation): mean, var, std over every score seen. */
export interface RunningMoments {
  mean: number;
  var: number;
  std: number;
  count: number;
}

export const freshMoments = (): RunningMoments => ({ mean: 0, var: 1, std: 1, count: 1e-24 });

const F32_EPS = 1.1920928955078125e-7;

/** Updates the moments with xs and returns the normalised scores (trl's use_score_scaling + use_score_norm). */
export function normaliseScores(m: RunningMoments, xs: readonly number[]): number[] {
  const n = xs.length;
  const xm = xs.reduce((a, b) => a + b, 0) / n;
  const xv = xs.reduce((a, x) => a + (x - xm) ** 2, 0) / n;
  const delta = xm - m.mean;
  const total = m.count + n;
  const oldSum = m.var * m.count + (delta * delta * m.count * n) / total;
  m.mean += (delta * n) / total;
  m.var = (oldSum + xv * n) / total;
  m.std = Math.sqrt((m.var * total) / (total - 1));
  m.count = total;
  return xs.map((x) => (x - m.mean) / (m.std + F32_EPS));
}

/** trl's AdaptiveKLController.update (Ziegler et al. 2019); a fixed controller keeps its value. */
export function updatedKlCoef(coef: number, adaptive: boolean, currentKl: number, target: number, horizon: number, nSteps: number): number {
  if (!adaptive) return coef;
  const error = Math.min(Math.max(currentKl / target - 1, -0.2), 0.2);
  return coef * (1 + (error * nSteps) / horizon);
}

/** One mini-batch's per-token inputs, flat over [rows, seqLen]. */
export interface PpoTokens {
  readonly mask: Uint8Array;
  readonly oldLogps: ArrayLike<number>;
  readonly oldValues: ArrayLike<number>;
  readonly advantages: ArrayLike<number>;
  readonly returns: ArrayLike<number>;
}

export interface PpoSettings {
  readonly cliprange: number;
  readonly cliprangeValue: number;
  readonly vfCoef: number;
}

export interface PpoTerms {
  readonly loss: number;
  readonly policyLoss: number;
  readonly valueLoss: number;
  /** d loss / d logp and d loss / d value per position. */
  readonly gradLogps: Float64Array;
  readonly gradValues: Float64Array;
  readonly policyClipfrac: number;
  readonly valueClipfrac: number;
  /** 0.5 · mean (logp − old)², trl's approxkl. */
  readonly approxKl: number;
}

/**
 * trl's PPOTrainer.loss: pg = mean max(−A·ρ, −A·clip(ρ, 1 ± cliprange)), ρ = exp(logp − old);
 * vf = 0.5 · mean max((v − R)², (clip(v, old ± cliprange_value) − R)²); loss = pg + vf_coef · vf.
 * Means over the masked positions; the gradient follows the branch each max takes (0 through a clamp).
 */
export function ppoTerms(logps: ArrayLike<number>, values: ArrayLike<number>, t: PpoTokens, s: PpoSettings): PpoTerms {
  const n = t.mask.reduce((a, b) => a + b, 0);
  const w = 1 / Math.max(n, 1);
  const gradLogps = new Float64Array(logps.length);
  const gradValues = new Float64Array(values.length);
  let pg = 0;
  let vf = 0;
  let pgClipped = 0;
  let vfClipped = 0;
  let approx = 0;
  for (let i = 0; i < logps.length; i++) {
    if (!t.mask[i]) continue;
    const adv = t.advantages[i]!;
    const diff = logps[i]! - t.oldLogps[i]!;
    const ratio = Math.exp(diff);
    const clippedRatio = Math.min(Math.max(ratio, 1 - s.cliprange), 1 + s.cliprange);
    const l1 = -adv * ratio;
    const l2 = -adv * clippedRatio;
    if (l2 > l1) {
      pg += l2;
      pgClipped++;
      gradLogps[i] = clippedRatio === ratio ? -adv * ratio * w : 0;
    } else {
      pg += l1;
      gradLogps[i] = -adv * ratio * w;
    }
    approx += 0.5 * diff * diff;
    const v = values[i]!;
    const old = t.oldValues[i]!;
    const ret = t.returns[i]!;
    const vc = Math.min(Math.max(v, old - s.cliprangeValue), old + s.cliprangeValue);
    const e1 = (v - ret) ** 2;
    const e2 = (vc - ret) ** 2;
    if (e2 > e1) {
      vf += e2;
      vfClipped++;
      gradValues[i] = vc === v ? 0.5 * s.vfCoef * 2 * (v - ret) * w : 0;
    } else {
      vf += e1;
      gradValues[i] = 0.5 * s.vfCoef * 2 * (v - ret) * w;
    }
  }
  const policyLoss = pg * w;
  const valueLoss = 0.5 * vf * w;
  return {
    loss: policyLoss + s.vfCoef * valueLoss,
    policyLoss,
    valueLoss,
    gradLogps,
    gradValues,
    policyClipfrac: pgClipped * w,
    valueClipfrac: vfClipped * w,
    approxKl: approx * w,
  };
}
