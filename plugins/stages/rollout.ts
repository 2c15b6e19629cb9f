// Rollouts for RL stages (grpo now, ppo later): sample completions for a batch of prompts with core's
// KV-cache generator (batched, left-padded, seeded), lay prompt + completion out as one Batch (prompt
// left-padded, completion right-padded, labels on the completion tokens), and the per-token log-probs
// of the completions under the policy, or under the reference (the base with the adapters off).
import { err, ok, type Result } from "neverthrow";
import {
  type AppliedMethod,
  type Batch,
  type CausalLM,
  type FinishReason,
  generate,
  IGNORE_INDEX,
  noGrad,
  ops,
  type Tensor,
  tensor,
  tidy,
} from "../../core/index.ts";

export interface SampleSettings {
  readonly maxNewTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  /** Philox seed of this rollout's sampling stream (derive it from the run's seed and a rollout counter). */
  readonly seed: bigint;
  readonly eosTokenIds: readonly number[];
  readonly padId: number;
}

export interface Completions {
  /** Prompt ids per row: each prompt repeated `group` times, consecutively. */
  readonly prompts: number[][];
  /** Sampled ids per row (an EOS that ended it included). */
  readonly completions: number[][];
  readonly finishReasons: FinishReason[];
}

/**
 * `group` samples for each prompt, in one batched generation with the method in inference mode (no
 * dropout) and no graph; the method's training flag is put back afterwards.
 */
export function sampleCompletions(
  model: CausalLM,
  method: AppliedMethod | undefined,
  prompts: readonly (readonly number[])[],
  group: number,
  s: SampleSettings,
): Result<Completions, Error> {
  const rows = prompts.flatMap((p) => Array.from({ length: group }, () => [...p]));
  const training = method?.training ?? false;
  if (method) method.training = false;
  try {
    const out = noGrad(() =>
      generate(model, rows, {
        maxNewTokens: s.maxNewTokens,
        doSample: true,
        temperature: s.temperature,
        topP: s.topP,
        topK: s.topK,
        seed: s.seed,
        eosTokenIds: s.eosTokenIds,
        padTokenId: s.padId,
      }),
    );
    if (out.isErr()) return err(out.error);
    return ok({ prompts: rows, completions: out.value.tokens, finishReasons: out.value.finishReasons });
  } finally {
    if (method) method.training = training;
  }
}

/** A prompt+completion Batch; `completionStart` is where every row's completion begins (after left padding). */
export interface SequenceBatch extends Batch {
  readonly completionStart: number;
}

/**
 * Prompts left-padded to one length, completions right-padded after them. Padding has segment id 0
 * (real tokens never attend to it), positions start at 0 at each row's first real token, and the
 * labels hold the completion tokens (IGNORE_INDEX elsewhere), aligned with the inputs as in sft.
 */
export function sequenceBatch(prompts: readonly (readonly number[])[], completions: readonly (readonly number[])[], padId: number): SequenceBatch {
  const B = prompts.length;
  const P = Math.max(...prompts.map((p) => p.length));
  const C = Math.max(1, ...completions.map((c) => c.length));
  const T = P + C;
  const inputIds = new Int32Array(B * T).fill(padId);
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
  const attentionMask = new Int32Array(B * T);
  const positionIds = new Int32Array(B * T);
  const segmentIds = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const p = prompts[b]!;
    const c = completions[b]!;
    const start = b * T + (P - p.length);
    const real = p.length + c.length;
    inputIds.set(p, start);
    inputIds.set(c, b * T + P);
    labels.set(c, b * T + P);
    for (let k = 0; k < real; k++) {
      attentionMask[start + k] = 1;
      positionIds[start + k] = k;
      segmentIds[start + k] = 1;
    }
  }
  return { batchSize: B, seqLen: T, inputIds, labels, attentionMask, positionIds, segmentIds, completionStart: P };
}

/**
 * Which flat [B·T] positions predict a completion token: position t predicts the label at t + 1
 * (1 there, 0 elsewhere), and the target ids.
 */
export function completionTargets(batch: Batch): { mask: Uint8Array; targets: Int32Array } {
  const { batchSize: B, seqLen: T, labels } = batch;
  const mask = new Uint8Array(B * T);
  const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      const label = labels[b * T + t + 1]!;
      if (label === IGNORE_INDEX) continue;
      mask[b * T + t] = 1;
      targets[b * T + t] = label;
    }
  }
  return { mask, targets };
}

/**
 * Per-position log-probs [B·T] of the completion tokens (0 where nothing is predicted), with a graph
 * when gradients are on. Logits are divided by `temperature` first, the distribution that sampled them.
 */
export function tokenLogProbs(model: CausalLM, batch: Batch, temperature = 1): Tensor {
  const { batchSize: B, seqLen: T } = batch;
  const { targets } = completionTargets(batch);
  const ids = tensor(batch.inputIds, [B, T], { dtype: "i32" });
  const positionIds = tensor(batch.positionIds, [B, T], { dtype: "i32" });
  const segmentIds = batch.segmentIds ? tensor(batch.segmentIds, [B, T], { dtype: "i32" }) : null;
  let logits = model.forward(ids, { positionIds, segmentIds });
  if (temperature !== 1) logits = ops.scale(logits, 1 / temperature);
  const vocab = logits.shape[logits.ndim - 1]!;
  const nll = ops.crossEntropy(ops.reshape(logits, [B * T, vocab]), tensor(targets, [B * T], { dtype: "i32" }), {
    ignoreIndex: IGNORE_INDEX,
    reduction: "none",
  });
  return ops.scale(nll, -1);
}

/** The policy's per-position log-probs as host values, without a graph and without dropout. */
export function policyLogProbs(model: CausalLM, method: AppliedMethod | undefined, batch: Batch, temperature = 1): Float32Array {
  const training = method?.training ?? false;
  if (method) method.training = false;
  try {
    return noGrad(() => tidy(() => Float32Array.from(tokenLogProbs(model, batch, temperature).toArray())));
  } finally {
    if (method) method.training = training;
  }
}

/** The reference's per-position log-probs: the same base with the method's adapters switched off. */
export function referenceLogProbs(model: CausalLM, method: AppliedMethod, batch: Batch, temperature = 1): Result<Float32Array, Error> {
  if (!method.withAdaptersDisabled) {
    return err(new Error(`method ${method.method} cannot switch its changes off for a reference model; use method lora, or beta = 0 (no KL term)`));
  }
  const out = method.withAdaptersDisabled(() => policyLogProbs(model, method, batch, temperature));
  return out.isErr() ? err(out.error) : ok(out.value);
}
