// Per-sequence log-probs of the labelled (response) tokens, as LLaMA-Factory's get_batch_logps: the
// sum over a row's shifted targets, with the count of those targets for length averaging. And the
// bridge from a loss computed on the host (with its gradients) back to the autograd graph.
import { type Batch, type CausalLM, IGNORE_INDEX, noGrad, ops, shiftedTargets, type Tensor, tensor } from "../../core/index.ts";

export interface SequenceLogps {
  /** [rows] sum of log p(target) over each row's labelled tokens, in the graph when gradients are on. */
  readonly logps: Tensor;
  /** The same values on the host. */
  readonly values: number[];
  /** Labelled tokens per row. */
  readonly lengths: number[];
}

/** The rows [from, to) of a batch, as a batch. */
export function batchRows(batch: Batch, from: number, to: number): Batch {
  const T = batch.seqLen;
  const cut = (a: Int32Array) => a.slice(from * T, to * T);
  return {
    batchSize: to - from,
    seqLen: T,
    inputIds: cut(batch.inputIds),
    labels: cut(batch.labels),
    attentionMask: cut(batch.attentionMask),
    positionIds: cut(batch.positionIds),
    segmentIds: batch.segmentIds ? cut(batch.segmentIds) : null,
  };
}

export function sequenceLogps(model: CausalLM, batch: Batch): SequenceLogps {
  const B = batch.batchSize;
  const T = batch.seqLen;
  const { targets } = shiftedTargets(batch);
  const lengths = Array.from({ length: B }, (_, b) => {
    let n = 0;
    for (let t = 0; t < T; t++) if (targets[b * T + t] !== IGNORE_INDEX) n++;
    return n;
  });
  const ids = tensor(batch.inputIds, [B, T], { dtype: "i32" });
  const positionIds = tensor(batch.positionIds, [B, T], { dtype: "i32" });
  const logits = model.forward(ids, { positionIds });
  const vocab = logits.shape[logits.ndim - 1]!;
  const nll = ops.crossEntropy(ops.reshape(logits, [B * T, vocab]), tensor(targets, [B * T], { dtype: "i32" }), {
    ignoreIndex: IGNORE_INDEX,
    reduction: "none",
  });
  const logps = ops.scale(ops.sumLastDim(ops.reshape(nll, [B, T])), -1);
  return { logps, values: Array.from(logps.toArray() as ArrayLike<number>, Number), lengths };
}

/** sequenceLogps without a graph (reference forwards, KTO's KL pairs). */
export function sequenceLogpsNoGrad(model: CausalLM, batch: Batch): { values: number[]; lengths: number[] } {
  return noGrad(() => {
    const r = sequenceLogps(model, batch);
    return { values: r.values, lengths: r.lengths };
  });
}

/**
 * A scalar whose value is `value` and whose gradient w.r.t. `logps` is `grad`: Σ gradᵢ·logpsᵢ plus a
 * constant. The losses are computed on the host in float64 (a few numbers per batch), the graph only
 * carries their gradients back into the model.
 */
export function hostLoss(logps: Tensor, grad: readonly number[], value: number): Tensor {
  const g = tensor(Float32Array.from(grad), [grad.length], { backend: logps.backend });
  const linear = ops.sum(ops.mul(g, logps));
  const at = logps.toArray();
  let dot = 0;
  grad.forEach((gi, i) => {
    dot += gi * Number(at[i]);
  });
  return ops.add(linear, tensor(Float32Array.of(value - dot), [], { backend: logps.backend }));
}
