// What the mixture-of-experts families share: top-k routing of each token to experts (softmax over the
// router's logits, the k largest kept, optionally renormalised), the dispatch that runs each expert once
// over the tokens routed to it and sums the weighted outputs back, and the router load-balancing loss
// (transformers' load_balancing_loss_func, Switch Transformer eqs. 4-6) the blocks feed by recording
// their router logits while the trainer asks for it (core's AuxiliaryLoss).
import {
  type AuxiliaryLoss,
  type ConfigReader,
  type FeedForward,
  isGradEnabled,
  Linear,
  Module,
  ModuleList,
  ops,
  type Tensor,
  tensor,
} from "../../core/index.ts";

/** How a block routes: E experts, k per token, and whether the k weights are renormalised to sum to 1. */
export interface MoeRouting {
  numExperts: number;
  topK: number;
  /** HF's norm_topk_prob (Mixtral always renormalises; Qwen's MoE configs say). */
  normTopK: boolean;
}

/** The load-balancing coefficient a config asks for: router_aux_loss_coef (0.001) when output_router_logits, else 0. */
export function readAuxLossCoef(r: ConfigReader): number {
  const coef = r.num("router_aux_loss_coef", 0.001);
  if (coef < 0) r.fail(`router_aux_loss_coef must be >= 0, got ${coef}`);
  return r.bool("output_router_logits", false) ? coef : 0;
}

/** For each row of scores [N, E], the k largest columns (ties to the lower index, as torch.topk). */
export function topK(scores: ArrayLike<number>, E: number, k: number): Int32Array {
  const N = scores.length / E;
  const out = new Int32Array(N * k);
  const cols = Array.from({ length: E }, (_, e) => e);
  for (let n = 0; n < N; n++) {
    const row = (e: number) => scores[n * E + e]!;
    const best = [...cols].sort((a, b) => row(b) - row(a) || a - b);
    for (let j = 0; j < k; j++) out[n * k + j] = best[j]!;
  }
  return out;
}

const i32 = (a: ArrayLike<number>) => tensor(a, [a.length], { dtype: "i32" });

/** x [N, H] -> [N, H] with each row's [N, 1] factor spread across it ([N, 1] @ ones [1, H]). */
export function scaleRows(x: Tensor, factor: Tensor): Tensor {
  const H = x.shape[x.ndim - 1]!;
  const ones = tensor(new Float32Array(H).fill(1), [1, H]);
  const out = ops.mul(x, ops.matmul(factor, ones));
  ones.dispose();
  return out;
}

/**
 * The routed experts' output for x2 [N, H] and the router's logits [N, E]: each token's top-k experts
 * (chosen on the host: a discrete choice) run on the rows routed to them only, weighted by the softmax
 * probability of each choice (renormalised over the k with normTopK), summed per token. Built from
 * differentiable ops: gradients reach the router (through the weights) and each expert that got a token.
 */
export function routeTokens(x2: Tensor, logits: Tensor, experts: readonly FeedForward[], r: MoeRouting): Tensor {
  const { numExperts: E, topK: k } = r;
  const N = x2.shape[0]!;
  const chosen = topK(logits.toArray(), E, k);
  const pickIds = i32(Array.from(chosen, (e, i) => Math.floor(i / k) * E + e));
  // Renormalised, the softmax over all E followed by a division by the k kept cancels to the softmax of
  // the k chosen logits (same weights, same router gradient); otherwise the full softmax's entries.
  const weights = r.normTopK
    ? ops.softmax(ops.reshape(ops.embedding(ops.reshape(logits, [N * E, 1]), pickIds), [N, k]))
    : ops.reshape(ops.embedding(ops.reshape(ops.softmax(logits), [N * E, 1]), pickIds), [N, k]);
  pickIds.dispose();
  // Group (token, slot) pairs by expert; each expert runs once over its gathered rows.
  const outs: Tensor[] = [];
  const tokenOfRow: number[] = [];
  const slotOfRow: number[] = [];
  for (let e = 0; e < E; e++) {
    const tokens: number[] = [];
    chosen.forEach((c, slot) => {
      if (c !== e) return;
      tokens.push(Math.floor(slot / k));
      slotOfRow.push(slot);
    });
    if (!tokens.length) continue;
    const ids = i32(tokens);
    outs.push(experts[e]!.forward(ops.embedding(x2, ids)));
    ids.dispose();
    tokenOfRow.push(...tokens);
  }
  if (!outs.length) return ops.scale(x2, 0); // no tokens (an empty batch): nothing was routed
  const y = outs.length === 1 ? outs[0]! : ops.concat(outs, 0);
  const slots = i32(slotOfRow);
  const w = ops.embedding(ops.reshape(weights, [N * k, 1]), slots);
  slots.dispose();
  const tokens = i32(tokenOfRow);
  const out = ops.scatterAddRows(scaleRows(y, w), tokens, N);
  tokens.dispose();
  return out;
}

/**
 * Router logits recorded during a model's training forwards, and the load-balancing loss over them as
 * transformers' load_balancing_loss_func computes it: the rows of every recorded layer concatenated,
 * f[j, e] = share of (unpadded) rows whose j-th choice is e, P[e] = mean routing probability of e,
 * loss = E * sum_j sum_e f[j, e] * P[e]. f is a count (no gradient), P carries the router's gradient.
 */
export class RouterLogits implements AuxiliaryLoss {
  readonly name = "aux_loss";
  private recording = false;
  private records: Tensor[] = [];

  constructor(
    readonly numExperts: number,
    readonly topK: number,
    /** The config's router_aux_loss_coef when output_router_logits is set, else 0. */
    readonly defaultCoefficient: number,
  ) {}

  /** A block's router logits [N, E], kept when a training forward is being recorded. */
  record(logits: Tensor): void {
    if (this.recording && isGradEnabled()) this.records.push(logits);
  }

  begin(): void {
    this.records = [];
    this.recording = true;
  }

  end(tokenMask?: ArrayLike<number>): Tensor | null {
    // A forward run in a scope of its own that has closed (its activations freed) left nothing to use.
    const recs = this.records.filter((t) => !t.disposed);
    this.records = [];
    this.recording = false;
    if (!recs.length) return null;
    const { numExperts: E, topK: k } = this;
    const all = recs.length === 1 ? recs[0]! : ops.concat(recs, 0);
    const R = all.shape[0]!;
    const masked = tokenMask !== undefined && recs.every((t) => t.shape[0] === tokenMask.length);
    const m = new Float32Array(R).fill(1);
    if (masked) for (let i = 0; i < R; i++) m[i] = tokenMask[i % tokenMask.length]! ? 1 : 0;
    const counted = m.reduce((a, v) => a + v, 0);
    if (counted === 0) return null;
    // f summed over the k slots: sum_j f[j, e] is e's share of choices, each row counting k times.
    const chosen = topK(all.toArray(), E, k);
    const share = new Float32Array(E);
    chosen.forEach((e, slot) => {
      share[e] = share[e]! + m[Math.floor(slot / k)]!;
    });
    const mask = tensor(m, [1, R]);
    const f = tensor(share, [1, E]);
    // P = mask @ softmax(logits) / counted; the two divisions by `counted` meet in the scale.
    const probSum = ops.matmul(mask, ops.softmax(all));
    const loss = ops.scale(ops.sum(ops.mul(probSum, f)), E / (counted * counted));
    mask.dispose();
    f.dispose();
    return loss;
  }
}

/**
 * A sparse MoE block: a router `gate` scores each token, `experts.N` run on the tokens routed to them.
 * Families give the expert module (Mixtral's w1/w2/w3, Qwen's gate/up/down_proj) and may add to the output
 * (Qwen2-MoE's shared expert) by overriding `forward`.
 */
export class SparseMoe<X extends FeedForward & Module> extends Module implements FeedForward {
  readonly gate: Linear;
  readonly experts: ModuleList<X>;

  constructor(
    readonly hiddenSize: number,
    readonly routing: MoeRouting,
    expert: (e: number) => X,
    /** Where the router logits go for the load-balancing loss (none: not recorded). */
    readonly recorder: RouterLogits | null = null,
  ) {
    super();
    const { numExperts: E, topK: k } = routing;
    if (!(k >= 1 && k <= E)) throw new RangeError(`sparse MoE: top-k ${k} must be within 1..${E} experts`);
    this.gate = this.addModule("gate", new Linear(hiddenSize, E));
    this.experts = this.addModule("experts", new ModuleList(Array.from({ length: E }, (_, e) => expert(e))));
  }

  /** x2 [N, hidden] -> the routed experts' sum [N, hidden] (the router logits recorded). */
  protected routed(x2: Tensor): Tensor {
    const logits = this.gate.forward(x2);
    this.recorder?.record(logits);
    return routeTokens(x2, logits, this.experts.items, this.routing);
  }

  /** x [..., hidden] -> [..., hidden] */
  forward(x: Tensor): Tensor {
    const x2 = ops.reshape(x, [x.numel / this.hiddenSize, this.hiddenSize]);
    return ops.reshape(this.routed(x2), x.shape);
  }
}
