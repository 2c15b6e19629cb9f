// The memory planner's contract: what a plan is computed from (a recipe's resolved settings and the
// model's config.json, no weights loaded), what it answers (peak bytes by part), and the formulas the
// plugins that own a concept declare through their registry entries (a method's trainable set and its
// frozen-weight format, a stage's extra copies and sequences per row). Optimizers declare theirs with
// the existing `stateBytes` (core/optim/entry.ts), called here over shape-only parameters.
import type { Result } from "neverthrow";
import type { HfConfig, ModelSpec } from "../nn/spec.ts";
import type { ResolvedOptions } from "../registry/options.ts";
import type { Shape } from "../tensor/shape.ts";

/** Storage types a frozen base weight is loaded in (a method may then quantise it). */
export type PlanWeightDType = "f32" | "bf16" | "f16";

/** A named entry (method, optimizer, stage) and its options, defaults filled in. */
export interface PlanEntryUse {
  readonly name: string;
  readonly options: ResolvedOptions;
}

/** Generation after (or instead of) training: the KV cache of chat, predict and eval blocks. */
export interface PlanGeneration {
  /** Sequences decoded at once. */
  readonly batch: number;
  /** Prompt plus new tokens: the cache's length. */
  readonly tokens: number;
  /** The prompt's tokens (the cache's first capacity); default 16. */
  readonly prompt?: number;
}

/** What a plan is computed from. */
export interface PlanInput {
  /** The registry's model family (`llama`, `qwen3`, ...). */
  readonly family: string;
  /** The model's config.json. */
  readonly config: HfConfig;
  /** Where the config came from, for messages. */
  readonly where?: string;
  /** Load dtype of the base weights (the recipe's `dtype`, `auto` resolved). */
  readonly dtype: PlanWeightDType;
  /** The recipe's method; absent: the whole model trains (`full`). */
  readonly method?: PlanEntryUse;
  /** Absent: `adamw` with its defaults. */
  readonly optimizer?: PlanEntryUse;
  /** Absent: `sft`. */
  readonly stage?: PlanEntryUse;
  /** Rows per micro-batch. */
  readonly batch: number;
  /** Tokens per row (the cutoff, or the longest row when shorter). */
  readonly seqLen: number;
  /** Micro-batches per optimizer step (default 1): one train step's scope holds each one's forward until the step ends. */
  readonly accumulation?: number;
  /** Activation checkpointing (recompute each decoder block in backward). */
  readonly recompute: boolean;
  /** Absent: no generation planned. */
  readonly generation?: PlanGeneration;
  /** Set false to plan inference only (no training block). Default true. */
  readonly train?: boolean;
}

/** One line of a plan: what holds the bytes, and how they were counted. */
export interface MemoryPart {
  /** A short stable key: `weights`, `trainable`, `gradients`, `optimizer`, `activations`, `logits`, `kv-cache`, `slack`, ... */
  readonly name: string;
  readonly bytes: number;
  /** How the number was reached, for a reader ("8 layers x 1.5 MiB, recompute off"). */
  readonly detail: string;
}

/** Which moment of a run the peak falls in. */
export type PlanPhase = "train" | "generate" | "load";

/** A plan: the parts live at the peak (they sum to peakBytes) and the phase of that peak. */
export interface MemoryPlan {
  readonly parts: readonly MemoryPart[];
  readonly peakBytes: number;
  readonly phase: PlanPhase;
  /** Trainable elements (adapters, unfrozen weights, stage heads) and all elements, as AppliedMethod counts them. */
  readonly counts: { readonly trainable: number; readonly total: number };
}

/** A tensor known by its shape only (planning allocates nothing). */
export interface PlanParam {
  readonly name: string;
  readonly shape: Shape;
}

/** What a method's memory formula sees. */
export interface MethodMemoryInput {
  readonly spec: ModelSpec;
  /** Every base weight with its HF name and shape. */
  readonly weights: readonly PlanParam[];
  readonly dtype: PlanWeightDType;
  /** The method's options, defaults filled in. */
  readonly options: ResolvedOptions;
  /** Module names adapters may wrap in this family (`q_proj`, ...). */
  readonly adapterTargets: readonly string[];
}

/** A Linear whose input an adapter or a trainable weight keeps for backward (activation planning). */
export interface PlanLinearUse {
  /** The module's name inside a block (`q_proj`, `down_proj`). */
  readonly module: string;
  /** The base weight is trainable (its input is kept for the weight gradient). */
  readonly weightTrainable: boolean;
  /** Adapter rank whose input and A-output are kept (0: no adapter). */
  readonly adapterRank: number;
  /** The adapter makes its own f32 copy of the input (dropout > 0). */
  readonly adapterCopiesInput: boolean;
  /** DoRA: the magnitude rescaling adds four [.., out] terms per forward. */
  readonly dora?: boolean;
}

/** A method's answer: frozen bytes by format, what trains, and how its layers keep activations. */
export interface MethodMemory {
  /** Frozen base weights, one part per storage format (`weights` f32/bf16, `weights-nf4` + its scales). */
  readonly frozen: readonly MemoryPart[];
  /** f32 tensors the optimizer trains (adapters, unfrozen base weights): gradients and states follow. */
  readonly trainable: readonly PlanParam[];
  /** Other bytes the method holds (DoRA's magnitudes are trainable; a second copy of anything goes here). */
  readonly extra?: readonly MemoryPart[];
  /** Per linear module (by name inside a decoder block) how it keeps activations; absent modules keep none. */
  readonly linears: readonly PlanLinearUse[];
  /** Decoder layers from which activations are kept (0: every layer; freeze trains the top ones only). */
  readonly firstLayerWithGrad: number;
  /** The output projection (lm_head) trains: its input is kept and its gradient is [vocab, hidden]. */
  readonly lmHeadTrainable: boolean;
  /** Decoder layers once the method is applied, when it adds some (LLaMA Pro); absent: the config's. */
  readonly layers?: number;
}

/** What a stage's memory formula sees. */
export interface StageMemoryInput {
  readonly spec: ModelSpec;
  readonly options: ResolvedOptions;
  /** The recipe's method name (`lora`, `full`, ...). */
  readonly method: string;
  /** Bytes of the frozen base weights as planned. */
  readonly frozenBytes: number;
  /** Bytes of every base weight in the load dtype: what a second model of the same base holds. */
  readonly baseBytes: number;
  readonly batch: number;
  readonly seqLen: number;
}

/** A stage's answer. */
export interface StageMemory {
  /** Sequences per batch row the forward sees (DPO: chosen + rejected = 2; GRPO: the group size). */
  readonly sequencesPerRow: number;
  /** Whether the loss needs logits over the vocabulary (a reward model's value head does not). */
  readonly logits: boolean;
  /**
   * The loss is causalLmLoss's, which fuses a plain output layer with cross-entropy (ops.linearCrossEntropy):
   * logits exist one chunk of rows at a time and their gradient is folded into the forward. Default false;
   * the default stage formula (sft, pt) sets it.
   */
  readonly fusedHead?: boolean;
  /**
   * Forwards without gradients over the same rows in each micro-batch (the reference model's, KTO's KL
   * rows): their tensors stay live until the step ends like the trained forward's. Default 0.
   */
  readonly referenceForwards?: number;
  /** Forwards of the trained model (adapters on) without gradients, kept the same way (KTO's KL rows). Default 0. */
  readonly policyForwards?: number;
  /** Tokens per trained row when the stage makes its own (GRPO: the prompt plus max_new_tokens); default the input's seqLen. */
  readonly tokensPerRow?: number;
  /** Trainable tensors the stage adds (a value head): gradients and optimizer states follow. */
  readonly trainable?: readonly PlanParam[];
  /** Other bytes (a separate reference model, rollout buffers). */
  readonly extra?: readonly MemoryPart[];
}

declare module "../registry/collections.ts" {
  interface MethodEntry {
    /** The method's memory formula (planning, no weights loaded); an error names the bad option. */
    memory?(input: MethodMemoryInput): Result<MethodMemory, Error>;
  }
  interface StageEntry {
    /** The stage's memory formula; absent: one sequence per row, logits through the fused head, nothing extra (sft, pt). */
    memory?(input: StageMemoryInput): StageMemory;
  }
}
