// The public entry of lft's core: plugins, the DSL and tools import from here and nowhere deeper.
export type { DType, HostArray } from "./tensor/dtype.ts";
export { DTYPES, DTYPE_BYTES, isFloat } from "./tensor/dtype.ts";
export { type Shape, ShapeError, formatShape, numel } from "./tensor/shape.ts";
export { Tensor, Storage } from "./tensor/tensor.ts";
export { CachingAllocator, type MemoryStats } from "./tensor/allocator.ts";
export { tidy, keep, scopeDepth } from "./tensor/scope.ts";
export { empty, zeros, full, tensor, randn, rand, type CreateOptions } from "./tensor/create.ts";
export type { Backend, BlasInfo, BinaryOp, MatmulOptions, AttentionOptions, AdamWHyper } from "./backend/backend.ts";
export { type NativeArray, DTypeError, DisposedError, IndexError } from "./backend/check.ts";
export { defaultBackend, setDefaultBackend, hasDefaultBackend, NoBackendError } from "./backend/default.ts";
// For backend implementations (ffi/): the checks every Backend method runs before native code.
export { expectArray, expectNumel, expectRank, expectDim, expectFinite, expectIndices, rowsCols } from "./backend/check.ts";
export * from "./backend/kernel-args.ts";
export { type MatmulDims, type AttentionDims, matmulDims, attentionDims, attentionScalars, seedArgs } from "./backend/shapes.ts";
export { type Block, type RawMemory, sizeClass } from "./tensor/allocator.ts";
export { hostArrayFor } from "./tensor/dtype.ts";
export { backward, noGrad, isGradEnabled, defineOp, OpContext, type OpDef } from "./autograd/tape.ts";
export * as ops from "./autograd/ops/index.ts";
export { Philox, philox4x32 } from "./random/philox.ts";
export * from "./registry.ts";
export { selectBackend } from "./backend/select.ts";
export { CheckpointError, ConfigError } from "./io/errors.ts";
export { SAFETENSORS_DTYPES, type SafetensorsDType } from "./io/safetensors-dtype.ts";
export { type TensorInfo, type SafetensorsHeader, parseSafetensorsHeader } from "./io/safetensors-header.ts";
export { SafetensorsFile, openSafetensors } from "./io/safetensors-read.ts";
export type { LoadOptions, LoadDType } from "./io/tensor-upload.ts";
export { type SafetensorsEntry, writeSafetensors } from "./io/safetensors-write.ts";
export { Checkpoint, openCheckpoint } from "./io/hf-checkpoint.ts";
export { type WriteCheckpointOptions, type WrittenCheckpoint, writeCheckpoint } from "./io/hf-checkpoint-write.ts";
export { readJsonFile, readJsonObject, parseJson } from "./io/json.ts";
export { type ModelConfig, readModelConfig, modelConfigFrom } from "./io/model-config.ts";
export { type GenerationConfig, GENERATION_DEFAULTS, readGenerationConfig, generationConfigFrom } from "./io/generation-config.ts";
export { type ExpectedTensor, type TensorCheck, TensorCheckError, expectTensors } from "./io/expect-tensors.ts";
export * from "./nn/index.ts";
export {
  type Optimizer,
  type OptimizerMeta,
  type HostTensor,
  type OptimizerContext,
  type OptimizerFactory,
  checkMeta,
  slotData,
  stateTensor,
  checkHyper,
  dropGrads,
  exportSlots,
} from "./optim/optimizer.ts";
export { type ParamGroup, type ParamGroupInput, type GroupRule, type NoDecay, buildGroups, defaultNoDecay, normaliseGroups } from "./optim/groups.ts";
export { type OptimizerSettings, optimizerFactory } from "./optim/entry.ts";
export { train, type TrainOptions, type TrainResult, type EvalSpec, type EvalOutput, type CheckpointSpec } from "./train/loop.ts";
export { TrainError, type TrainErrorReason } from "./train/errors.ts";
export { type LossFn, type LossOutput, type StepContext } from "./train/step.ts";
export { type ResumableBatches, type JsonValue, type ShuffledBatchesOptions, shuffledBatches } from "./train/batches.ts";
export { type ScheduleSpec, type ScheduleKind, type Schedule, makeSchedule } from "./train/schedule.ts";
export { TrainRng, type RngState } from "./train/rng.ts";
export { globalGradNorm, clipGradients } from "./train/clip.ts";
export { type RunHandlers, type HookHost } from "./train/events.ts";
export { progressHandlers, formatDuration, type ProgressOptions } from "./train/progress.ts";
export { evalLoss } from "./train/eval.ts";
export { interruptOnSignals, type SignalGuard } from "./train/signals.ts";
export { saveCheckpoint, listCheckpoints, latestCheckpoint, pruneCheckpoints, type CheckpointRef } from "./train/run-checkpoint.ts";
export { RunStore, StoreError, type RunRecord, type NewRun, type MetricPoint } from "./store/store.ts";
export { type RunStatus } from "./store/schema.ts";
export { storeHooks, type RunInfo } from "./store/hooks.ts";
export * from "./data/index.ts";
export * from "./generate/index.ts";
export { loadTokenizer, TokenizerError } from "./tokenizer/load.ts";
export { HfTokenizer } from "./tokenizer/hf-tokenizer.ts";
export type { Tokenizer, EncodeOptions, DecodeOptions, ChatMessage } from "./tokenizer/tokenizer.ts";
export { renderChatTemplate, ChatTemplateError, type ChatTemplateOptions } from "./tokenizer/chat-template.ts";
export { parallelEncode, type ParallelEncodeOptions } from "./tokenizer/parallel.ts";
export { MethodError, methodEntry, countElements, type AppliedMethod, type ApplyContext, type LoadContext, type MethodPayload, type RandomStream } from "./train/method.ts";
export { TOKENIZER_FILES, copyTokenizerFiles } from "./io/tokenizer-files.ts";
export { writeFileAtomic } from "./io/atomic-file.ts";
export { knownList } from "./registry/suggest.ts";
export * from "./train/stage.ts";
export * from "./run/recipe.ts";
export { type RunContext, type RunOutcome, runRecipe } from "./run/run-recipe.ts";
export { ExitCode, exitCodeDocs } from "./command/exit-codes.ts";
export { type Args, type ArgSpec, parseArgs } from "./command/args.ts";
