// The critic's per-token values: the value head on the final hidden state at every position of a
// prompt+completion batch (trl's AutoModelForCausalLMWithValueHead), [B·T], with a graph when enabled.
import { type Batch, type CausalLM, ops, type Tensor, tensor } from "../../../core/index.ts";
import type { ValueHead } from "../value-head.ts";

export function tokenValues(model: CausalLM, head: ValueHead, batch: Batch): Tensor {
  const { batchSize: B, seqLen: T } = batch;
  const backend = head.weight.backend;
  const ids = tensor(batch.inputIds, [B, T], { dtype: "i32", backend });
  const positionIds = tensor(batch.positionIds, [B, T], { dtype: "i32", backend });
  const segmentIds = batch.segmentIds ? tensor(batch.segmentIds, [B, T], { dtype: "i32", backend }) : null;
  const hidden = model.forward(ids, { positionIds, segmentIds, hiddenOnly: true });
  const H = hidden.shape[2]!;
  const v = ops.add(ops.matmul(ops.reshape(hidden, [B * T, H]), head.weight, { transB: true }), head.bias);
  return ops.reshape(v, [B * T]);
}
