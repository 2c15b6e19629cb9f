// One optimizer step: pull `accumulation` micro-batches, run the stage's loss and backward on each,
// combine their gradients as a weighted mean (weight = tokens unless the stage says otherwise, so k
// micro-batches give the gradient of one big batch), guard against NaN/Inf, clip, update, and check the
// updated parameters are finite. Runs in one
// tidy() scope, so everything it allocates goes back to the cache when it returns.
import { backward } from "../autograd/tape.ts";
import type { GradientSync } from "../dist/gradient-sync.ts";
import { firstNonFinite, type NonFiniteParam, type Optimizer } from "../optim/optimizer.ts";
import { full } from "../tensor/create.ts";
import { tidy } from "../tensor/scope.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { ResumableBatches } from "./batches.ts";
import { clipGradients, globalGradNorm, scaleGradients } from "./clip.ts";
import type { TrainRng } from "./rng.ts";

/** What a stage's loss function returns for one micro-batch. */
export interface LossOutput {
  /** Scalar loss with a graph back to the trainable parameters (a mean over the batch's tokens). */
  readonly loss: Tensor;
  /** Tokens that counted towards the loss (for throughput and the default weight). */
  readonly tokens: number;
  /** This micro-batch's weight in the step's mean; default `tokens`. */
  readonly weight?: number;
  /** Host-side scalar metrics of the micro-batch (e.g. `rewards/margins`); the step averages them. */
  readonly metrics?: Readonly<Record<string, number>>;
}

export interface StepContext {
  /** The optimizer step being computed, from 1. */
  readonly step: number;
  /** Micro-batch index within the step. */
  readonly micro: number;
  /** Counter-based randomness for dropout: `ops.dropout(x, { p, seed: rng.seed, offset: rng.offsetFor(x.numel) })`. */
  readonly rng: TrainRng;
}

export type LossFn<B> = (batch: B, ctx: StepContext) => LossOutput;

export interface StepInput<B> {
  readonly step: number;
  readonly lr: number;
  readonly optimizer: Optimizer;
  readonly batches: ResumableBatches<B>;
  readonly lossFn: LossFn<B>;
  readonly accumulation: number;
  /** 0 or undefined: no clipping. */
  readonly clipNorm?: number;
  readonly rng: TrainRng;
  /** Data parallelism: gradients, loss and tokens become sums over every rank before the update. */
  readonly sync?: GradientSync;
}

export interface StepOutcome {
  /** Micro-batches used (0: the data was exhausted before this step began; nothing was done). */
  readonly micro: number;
  /** Weighted mean loss over the micro-batches. */
  readonly loss: number;
  readonly tokens: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** True when the loss or a gradient was NaN/Inf: no parameter or optimizer state changed. */
  readonly skipped: boolean;
  /** The data ran out during this step (fewer than `accumulation` micro-batches). */
  readonly exhausted: boolean;
  /**
   * The stage's metrics averaged over the micro-batches with the loss's weights (a metric a micro-batch
   * did not report is averaged over those that did); absent when no micro-batch reported any.
   */
  readonly metrics?: Readonly<Record<string, number>>;
  /** The first parameter the update left with NaN/±Inf values (the loss and gradient were finite; the update was not). */
  readonly nonFinite?: NonFiniteParam;
}

/** Weighted means of named metrics over micro-batches. */
export class MetricMeans {
  private readonly sums = new Map<string, { sum: number; weight: number }>();
  add(metrics: Readonly<Record<string, number>> | undefined, w: number): void {
    if (!metrics) return;
    for (const [k, v] of Object.entries(metrics)) {
      const m = this.sums.get(k) ?? { sum: 0, weight: 0 };
      m.sum += v * w;
      m.weight += w;
      this.sums.set(k, m);
    }
  }
  result(): Readonly<Record<string, number>> | undefined {
    if (this.sums.size === 0) return undefined;
    return Object.fromEntries([...this.sums].map(([k, m]) => [k, m.sum / m.weight]));
  }
}

/** The ranks could not combine their gradients (a collective failed); the run must stop on every rank. */
export class GradientSyncError extends Error {
  override readonly name = "GradientSyncError";
}

export class LossContractError extends Error {
  override readonly name = "LossContractError";
}

function checkOutput(out: LossOutput, step: number, micro: number): number {
  const where = `step ${step}, micro-batch ${micro}`;
  if (!out || !(out.loss instanceof Tensor))
    throw new LossContractError(`lossFn returned ${JSON.stringify(out)} at ${where}; expected { loss: Tensor, tokens: number }`);
  if (out.loss.numel !== 1)
    throw new LossContractError(`lossFn returned a loss of shape [${out.loss.shape.join(", ")}] at ${where}; expected a scalar (reduce it with a mean)`);
  if (!out.loss.node)
    throw new LossContractError(`lossFn's loss at ${where} has no graph to the parameters; are they requiresGrad, and was it computed outside noGrad?`);
  if (!(Number.isInteger(out.tokens) && out.tokens >= 0))
    throw new LossContractError(`lossFn returned tokens = ${out.tokens} at ${where}; expected an integer >= 0`);
  const w = out.weight ?? out.tokens;
  if (!(Number.isFinite(w) && w > 0))
    throw new LossContractError(`micro-batch weight ${w} at ${where} must be > 0 (a batch with no target tokens: filter it out in the data, or give a weight)`);
  return w;
}

export function runStep<B>(s: StepInput<B>): StepOutcome {
  try {
    return stepInScope(s);
  } catch (e) {
    // Gradients of the micro-batches before the failure would leak into whatever runs next.
    s.optimizer.zeroGrad();
    throw e;
  }
}

function stepInScope<B>(s: StepInput<B>): StepOutcome {
  const params = s.optimizer.params;
  return tidy(() => {
    let weights = 0;
    let weighted = 0;
    let tokens = 0;
    let micro = 0;
    let exhausted = false;
    let last = Number.NaN;
    const means = new MetricMeans();
    // With ranks, gradients are summed as Σ w ∇L over every rank's micro-batches, then divided once.
    const single = s.accumulation === 1 && !s.sync;
    // Set before backward: an optimizer that steps each tensor as its gradient is ready uses this step's lr.
    s.optimizer.lr = s.lr;
    for (; micro < s.accumulation; micro++) {
      const batch = s.batches.next();
      if (batch === undefined) {
        exhausted = true;
        break;
      }
      // Each micro-batch's forward and backward in a scope of its own: its activations go back to the cache
      // before the next micro-batch runs (accumulation costs one micro-batch's activations, not N), and
      // only the accumulated gradients it returns live on. The batch itself stays in the step's scope.
      const m = micro;
      const done = tidy(() => {
        const out = s.lossFn(batch, { step: s.step, micro: m, rng: s.rng });
        const w = checkOutput(out, s.step, m);
        const value = out.loss.item();
        // Σ w_i ∇L_i now, divided by Σ w_i below: the mean is exact whatever the split into micro-batches.
        s.sync?.beforeBackward(m === s.accumulation - 1);
        if (single) backward(out.loss);
        else backward(out.loss, full(out.loss.shape, w, { backend: out.loss.backend }));
        const grads = params.flatMap((p) => (p.grad ? [p.grad] : []));
        return { value, w, tokens: out.tokens, metrics: out.metrics, grads };
      });
      last = done.value;
      weighted += done.value * done.w;
      weights += done.w;
      tokens += done.tokens;
      means.add(done.metrics, done.w);
    }
    if (micro === 0) return { micro, loss: Number.NaN, tokens: 0, gradNorm: Number.NaN, skipped: false, exhausted };
    if (s.sync) {
      const global = s.sync.finish({ weights, weighted, tokens });
      if (global.isErr()) throw new GradientSyncError(`step ${s.step}: ${global.error.message}`);
      ({ weights, weighted, tokens } = global.value);
    }
    const loss = single ? last : weighted / weights;
    if (!single) scaleGradients(params, 1 / weights);
    const metrics = means.result();
    const withMetrics = metrics ? { metrics } : {};
    const gradNorm = globalGradNorm(params);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      s.optimizer.zeroGrad();
      return { micro, loss, tokens, gradNorm, skipped: true, exhausted, ...withMetrics };
    }
    if (s.clipNorm) clipGradients(params, gradNorm, s.clipNorm);
    s.optimizer.lr = s.lr;
    s.optimizer.update();
    // Fused into the optimizer's kernel where it can count (AdamW); otherwise one count per parameter.
    const nonFinite = s.optimizer.nonFinite ? s.optimizer.nonFinite() : firstNonFinite(s.optimizer.groups);
    s.optimizer.zeroGrad();
    return { micro, loss, tokens, gradNorm, skipped: false, exhausted, ...withMetrics, ...(nonFinite ? { nonFinite } : {}) };
  });
}
