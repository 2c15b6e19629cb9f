// The stage contract (StageEntry's payload) and the causal language-model loss that `pt` and `sft`
// share. A stage owns its sample processor (aligned examples to tokenised samples, run by the data
// worker) and turns one batch into a scalar loss; the one train() loop does the rest (STYLE 16:
// stages hand a loss to the loop, no subclasses).
import { err, ok, type Result } from "neverthrow";
import { crossEntropy } from "../autograd/ops/loss.ts";
import { reshape } from "../autograd/ops/shape.ts";
import type { Batch } from "../data/collate.ts";
import type { SampleProcessor } from "../data/process/context.ts";
import { type DataKind, IGNORE_INDEX } from "../data/types.ts";
import type { CausalLM } from "../nn/causal-lm.ts";
import type { StageEntry } from "../registry/collections.ts";
import { tensor } from "../tensor/create.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { AppliedMethod } from "./method.ts";

export interface StageLoss {
  /** Scalar (shape []) mean loss of the micro-batch. */
  loss: Tensor;
  /** Tokens that carried a loss (the trainer weights micro-batches by these). */
  tokens: number;
  /** Micro-batch weight in the step's mean when not `tokens` (e.g. pairs for a pairwise loss). */
  weight?: number;
  /**
   * Host-side scalar metrics of the micro-batch (e.g. `rewards/chosen`, `rewards/margins`), named as
   * LLaMA-Factory/TRL log them; the loop averages them over micro-batches with the loss's weights and
   * puts them in the step event, the run store, trainer_state.json and the progress line.
   */
  metrics?: Readonly<Record<string, number>>;
}

export interface StageContext {
  step: number;
  micro: number;
  /** The method trained (its adapters can be switched off for a reference forward); absent in bare calls. */
  method?: AppliedMethod;
  /**
   * A frozen model from a folder (an explicit reference model, e.g. dpo's `ref_model`), loaded once per
   * run by the runner (paths relative to the recipe) and freed when the run ends; absent in bare calls.
   */
  loadFrozen?(path: string): Result<CausalLM, Error>;
}

declare module "../registry/collections.ts" {
  interface StageEntry {
    /** How the data worker builds this stage's samples from aligned examples (its kind picks the collator). */
    readonly processor?: SampleProcessor;
    /** One micro-batch to a loss; `options` are the stage's own (validated against its schema). */
    loss?(model: CausalLM, batch: Batch, options: Readonly<Record<string, unknown>>, ctx: StageContext): StageLoss;
    /**
     * What the stage's options need of the recipe's method, checked before anything loads (`lft
     * check`): e.g. a reference model that only adapters switched off can give. A message, or undefined.
     */
    checkMethod?(options: Readonly<Record<string, unknown>>, method: StageMethodInfo): string | undefined;
  }
}

/** The recipe's method as `checkMethod` sees it: its name and validated options. */
export interface StageMethodInfo {
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface RunnableStage {
  readonly name: string;
  readonly dataKind: DataKind;
  readonly processor: SampleProcessor;
  loss(model: CausalLM, batch: Batch, options: Readonly<Record<string, unknown>>, ctx: StageContext): StageLoss;
}

/** A stage entry that can run (tests and the DSL may register bare names). */
export function runnableStage(entry: StageEntry): Result<RunnableStage, Error> {
  if (!entry.processor || !entry.loss)
    return err(new Error(`stage "${entry.name}" has no loss or sample processor: its plugin registers it for checking only`));
  return ok({ name: entry.name, dataKind: entry.processor.kind, processor: entry.processor, loss: entry.loss.bind(entry) });
}

/**
 * Next-token targets for labels aligned with the input ids (as LLaMA-Factory stores them): the
 * target at t is the label at t + 1, and nothing is predicted across a packed-sample boundary.
 */
export function shiftedTargets(batch: Batch): { targets: Int32Array; counted: number } {
  const { batchSize: B, seqLen: T, labels, segmentIds } = batch;
  const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
  let counted = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      const i = b * T + t;
      if (segmentIds && segmentIds[i] !== segmentIds[i + 1]) continue;
      const label = labels[i + 1]!;
      targets[i] = label;
      if (label !== IGNORE_INDEX) counted++;
    }
  }
  return { targets, counted };
}

/** Mean next-token cross-entropy of a batch (right-padded; packed rows use segment and position ids). */
export function causalLmLoss(model: CausalLM, batch: Batch): StageLoss {
  const B = batch.batchSize;
  const T = batch.seqLen;
  const { targets, counted } = shiftedTargets(batch);
  const ids = tensor(batch.inputIds, [B, T], { dtype: "i32" });
  const positionIds = tensor(batch.positionIds, [B, T], { dtype: "i32" });
  const segmentIds = batch.segmentIds ? tensor(batch.segmentIds, [B, T], { dtype: "i32" }) : null;
  const logits = model.forward(ids, { positionIds, segmentIds });
  const vocab = logits.shape[logits.ndim - 1]!;
  const loss = crossEntropy(reshape(logits, [B * T, vocab]), tensor(targets, [B * T], { dtype: "i32" }), { ignoreIndex: IGNORE_INDEX });
  return { loss, tokens: counted };
}
