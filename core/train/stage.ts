// The stage contract (StageEntry's payload) and the causal language-model loss that `pt` and `sft`
// share. A stage owns its sample processor (aligned examples to tokenised samples, run by the data
// worker) and turns one batch into a scalar loss; the one train() loop does the rest (STYLE 16:
// stages hand a loss to the loop, no subclasses). A stage may also own its batch source (RL stages
// sample completions from the policy each step): the runner then hands the loop the stage's batches.
import { err, ok, type Result } from "neverthrow";
import { linearCrossEntropy } from "../autograd/ops/linear-cross-entropy.ts";
import { crossEntropy } from "../autograd/ops/loss.ts";
import { reshape } from "../autograd/ops/shape.ts";
import type { Batch } from "../data/collate.ts";
import type { SampleProcessor } from "../data/process/context.ts";
import { type DataKind, IGNORE_INDEX } from "../data/types.ts";
import type { CausalLM } from "../nn/causal-lm.ts";
import type { StageEntry } from "../registry/collections.ts";
import type { Registry } from "../registry/registry.ts";
import { tensor } from "../tensor/create.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Tokenizer } from "../tokenizer/tokenizer.ts";
import type { ResumableBatches } from "./batches.ts";
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

/**
 * What a stage-owned batch source is built from: the stage's samples (from its processor), the live
 * model and method (to sample from the policy and to switch adapters off for a reference), the
 * registry (to resolve plugins the options name, e.g. reward functions) and the run's seed.
 */
export interface StageBatchesInput {
  readonly model: CausalLM;
  readonly method: AppliedMethod;
  readonly samples: readonly unknown[];
  readonly options: Readonly<Record<string, unknown>>;
  /** Samples per micro-batch, as the recipe's `batch` says. */
  readonly batchSize: number;
  readonly seed: number;
  readonly tokenizer: Tokenizer;
  readonly padId: number;
  /** Ids that end a generated sequence (generation_config's EOS, the template's stop ids). */
  readonly eosTokenIds: readonly number[];
  readonly registry: Registry;
  /** The stage's own modules when it has `prepare` (PPO's critic head scores rollouts with them). */
  readonly prepared?: StagePrepared;
  /** A frozen full model from a folder (path relative to the recipe), loaded once per run, freed after it. */
  loadFrozen?(path: string): Result<CausalLM, Error>;
  /** A path the recipe gives, resolved as the recipe's paths are (relative to the recipe's folder). */
  resolvePath?(path: string): string;
}

/**
 * Trainable modules a stage owns beside the model and its method (a reward model's value head, a PPO
 * critic's): the runner adds `params` to the optimizer (so checkpoints save and resume restore them
 * under these names, which must not collide with the method's), calls `loss` instead of the entry's,
 * and `save` after the method has written its result to the output folder.
 */
export interface StagePrepared {
  /** Trainable tensors by checkpoint name (kept alive across scopes until dispose). */
  readonly params: Readonly<Record<string, Tensor>>;
  /** The stage's loss with its modules bound. */
  loss(model: CausalLM, batch: Batch, ctx: StageContext): StageLoss;
  /** Writes the modules into dir (beside the adapter or model); returns the files written. */
  save(dir: string): Result<string[], Error>;
  /** Frees the modules' tensors. */
  dispose(): void;
}

/** What a stage's prepare sees: the method trained (absent for a bare model) and the run's seed. */
export interface StagePrepareContext {
  readonly method?: AppliedMethod;
  readonly seed: number;
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
     * The stage's own batch source, replacing the shuffled, collated samples: each `next()` may run the
     * model (rollouts). Its `state()` must hold all it needs for a resumed run to continue exactly
     * (sample cursor, sampling-stream position, buffered rollouts); it is saved in every checkpoint.
     */
    batches?(input: StageBatchesInput): Result<ResumableBatches<Batch>, Error>;
    /** Builds the stage's own trainable modules for one run (a stage without modules leaves this out). */
    prepare?(model: CausalLM, options: Readonly<Record<string, unknown>>, ctx: StagePrepareContext): Result<StagePrepared, Error>;
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
  batches?(input: StageBatchesInput): Result<ResumableBatches<Batch>, Error>;
  prepare?(model: CausalLM, options: Readonly<Record<string, unknown>>, ctx: StagePrepareContext): Result<StagePrepared, Error>;
}

/** A stage entry that can run (tests and the DSL may register bare names). */
export function runnableStage(entry: StageEntry): Result<RunnableStage, Error> {
  if (!entry.processor || !entry.loss)
    return err(new Error(`stage "${entry.name}" has no loss or sample processor: its plugin registers it for checking only`));
  return ok({
    name: entry.name,
    dataKind: entry.processor.kind,
    processor: entry.processor,
    loss: entry.loss.bind(entry),
    ...(entry.batches ? { batches: entry.batches.bind(entry) } : {}),
    ...(entry.prepare ? { prepare: entry.prepare.bind(entry) } : {}),
  });
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
  const targetIds = tensor(targets, [B * T], { dtype: "i32" });
  // A plain output layer is fused with the loss (no [B*T, vocab] logits held); any other head runs as written.
  const head = model.outputWeight();
  if (head) {
    const hidden = model.forward(ids, { positionIds, segmentIds, hiddenOnly: true });
    const loss = linearCrossEntropy(reshape(hidden, [B * T, hidden.shape[hidden.ndim - 1]!]), head, targetIds, { ignoreIndex: IGNORE_INDEX });
    return { loss, tokens: counted };
  }
  const logits = model.forward(ids, { positionIds, segmentIds });
  const vocab = logits.shape[logits.ndim - 1]!;
  const loss = crossEntropy(reshape(logits, [B * T, vocab]), targetIds, { ignoreIndex: IGNORE_INDEX });
  return { loss, tokens: counted };
}
