// GRPO's objective (DeepSeekMath; TRL's GRPOTrainer): group-relative advantages, the per-token clipped
// surrogate on the ratio to the policy that sampled the completions, and the k3 estimate of the KL to
// the reference, reduced per sequence ("grpo"), over the batch's tokens ("bnpo") or by a constant
// ("dr_grpo"). The per-token arithmetic is host-side float64 over [rows × seqLen] values (no vocabulary
// dimension), as one autograd op whose backward is the analytic derivative in the log-probabilities.
import { defineOp, type Tensor, tensor } from "../../core/index.ts";

export type GrpoLossType = "grpo" | "bnpo" | "dr_grpo";

/** Per-token inputs of one micro-batch, flat over [rows, seqLen]; only tokens with mask 1 count. */
export interface GrpoTokens {
  readonly rows: number;
  readonly seqLen: number;
  readonly mask: Uint8Array;
  /** Log-probs under the policy that sampled the completions; null: the current one (ratio 1). */
  readonly oldLogps: Float32Array | null;
  /** Log-probs under the reference; null when beta = 0. */
  readonly refLogps: Float32Array | null;
  /** One advantage per row. */
  readonly advantages: Float64Array;
}

export interface GrpoSettings {
  readonly beta: number;
  readonly epsilonLow: number;
  readonly epsilonHigh: number;
  readonly lossType: GrpoLossType;
  /** dr_grpo's constant denominator per row (max_new_tokens). */
  readonly maxCompletionLength: number;
}

export interface GrpoTerms {
  readonly loss: number;
  /** dLoss/dlogp per token. */
  readonly grad: Float64Array;
  /** Mean k3 KL over counted tokens (0 with beta = 0 and no reference). */
  readonly kl: number;
  /** Share of counted tokens whose ratio was clipped (low or high region). */
  readonly clipRatio: number;
}

/** Group-relative advantages: (r − mean of its group) / (unbiased std of its group + 1e-4), groups of `group` consecutive rows. */
export function groupAdvantages(rewards: readonly number[], group: number, scale = true): Float64Array {
  const out = new Float64Array(rewards.length);
  for (let g = 0; g < rewards.length; g += group) {
    const rs = rewards.slice(g, g + group);
    const mean = rs.reduce((a, b) => a + b, 0) / rs.length;
    const variance = rs.length > 1 ? rs.reduce((a, r) => a + (r - mean) ** 2, 0) / (rs.length - 1) : 0;
    const std = Math.sqrt(variance);
    rs.forEach((r, i) => {
      out[g + i] = scale ? (r - mean) / (std + 1e-4) : r - mean;
    });
  }
  return out;
}

/** The loss, its gradient in the policy log-probs, and the KL and clip metrics. */
export function grpoTerms(logps: ArrayLike<number>, t: GrpoTokens, s: GrpoSettings): GrpoTerms {
  const { rows, seqLen, mask } = t;
  const grad = new Float64Array(rows * seqLen);
  const perRow = new Float64Array(rows);
  const counts = new Float64Array(rows);
  let total = 0;
  let klSum = 0;
  let clipped = 0;
  for (let b = 0; b < rows; b++) {
    const adv = t.advantages[b]!;
    for (let i = b * seqLen; i < (b + 1) * seqLen; i++) {
      if (!mask[i]) continue;
      counts[b]!++;
      const logp = logps[i]!;
      const old = t.oldLogps ? t.oldLogps[i]! : logp;
      const ratio = Math.exp(logp - old);
      const clippedRatio = Math.min(Math.max(ratio, 1 - s.epsilonLow), 1 + s.epsilonHigh);
      const l1 = ratio * adv;
      const l2 = clippedRatio * adv;
      let value = -Math.min(l1, l2);
      // The min takes the clipped term only where it is smaller; there its derivative is 0.
      let d = l2 < l1 && clippedRatio !== ratio ? 0 : -adv * ratio;
      if ((ratio < 1 - s.epsilonLow && adv < 0) || (ratio > 1 + s.epsilonHigh && adv > 0)) clipped++;
      if (t.refLogps) {
        const delta = t.refLogps[i]! - logp;
        const kl = Math.exp(delta) - delta - 1;
        klSum += kl;
        if (s.beta !== 0) {
          value += s.beta * kl;
          d += s.beta * (1 - Math.exp(delta));
        }
      }
      perRow[b]! += value;
      grad[i] = d;
    }
    total += counts[b]!;
  }
  // Each token's weight in the reduction.
  const weightOf = (b: number): number => {
    if (s.lossType === "grpo") return 1 / (Math.max(counts[b]!, 1) * rows);
    if (s.lossType === "bnpo") return 1 / Math.max(total, 1);
    return 1 / (rows * s.maxCompletionLength);
  };
  let loss = 0;
  for (let b = 0; b < rows; b++) {
    const w = weightOf(b);
    loss += perRow[b]! * w;
    for (let i = b * seqLen; i < (b + 1) * seqLen; i++) grad[i]! *= w;
  }
  return { loss, grad, kl: total > 0 ? klSum / total : 0, clipRatio: total > 0 ? clipped / total : 0 };
}

interface ObjectiveState {
  grad: Float64Array;
  terms: GrpoTerms;
}

/** logps [rows·seqLen] f32 (the policy's, with a graph) -> the scalar GRPO loss. */
export const grpoObjective = defineOp<[Tensor, GrpoTokens, GrpoSettings, ((terms: GrpoTerms) => void)?], ObjectiveState>({
  name: "grpoObjective",
  forward(ctx, logps, tokens, settings, report) {
    if (logps.numel !== tokens.rows * tokens.seqLen)
      throw new RangeError(`grpoObjective: ${logps.numel} log-probs for ${tokens.rows} rows of ${tokens.seqLen} tokens`);
    const terms = grpoTerms(logps.toArray(), tokens, settings);
    report?.(terms);
    ctx.state = { grad: terms.grad, terms };
    return tensor([terms.loss], [], { backend: logps.backend });
  },
  backward(ctx, g) {
    const scale = g.item();
    const { grad } = ctx.state;
    return [
      tensor(
        Float32Array.from(grad, (v) => v * scale),
        [grad.length],
        { backend: g.backend },
      ),
    ];
  },
});
