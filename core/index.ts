// The public entry of lft's core: plugins, the DSL and tools import from here and nowhere deeper.

export * as ops from "./autograd/ops/index.ts";
export { backward, defineOp, isGradEnabled, noGrad, OpContext, type OpDef, type OpProfiler, onGradReady, setOpProfiler } from "./autograd/tape.ts";
export type {
  AdamWHyper,
  AttentionOptions,
  Backend,
  BinaryOp,
  BlasInfo,
  Int8Arrays,
  MatmulOptions,
  Quant4Arrays,
  QuantizedMatmul,
} from "./backend/backend.ts";
// For backend implementations (ffi/): the checks every Backend method runs before native code.
export {
  DisposedError,
  DTypeError,
  expectArray,
  expectCount,
  expectDim,
  expectFinite,
  expectIndices,
  expectInt32,
  expectNumel,
  expectRank,
  IndexError,
  type NativeArray,
  rowsCols,
} from "./backend/check.ts";
export { defaultBackend, hasDefaultBackend, NoBackendError, setDefaultBackend } from "./backend/default.ts";
export * from "./backend/kernel-args.ts";
export { dequantizeOut, halfLinearArgs, int8Args, int8LinearArgs, quant4Args, quant4LinearArgs } from "./backend/quant-check.ts";
export { selectBackend } from "./backend/select.ts";
export { type AttentionDims, attentionDims, attentionScalars, attentionSinks, type MatmulDims, matmulDims, seedArgs } from "./backend/shapes.ts";
export { type ArgSpec, type Args, parseArgs } from "./command/args.ts";
export { ExitCode, exitCodeDocs } from "./command/exit-codes.ts";
export * from "./data/index.ts";
export { checkCollectiveTensor, checkGathered, checkRoot } from "./dist/check.ts";
export { CollectiveError, type CollectiveErrorReason, type Collectives, type Pending, type ReduceOp } from "./dist/collectives.ts";
export { broadcastParams, DEFAULT_BUCKET_BYTES, type GradientSync, gradientSync, type StepTotals } from "./dist/gradient-sync.ts";
export { shardBatches } from "./dist/shard.ts";
export { singleCollectives } from "./dist/single.ts";
export * from "./generate/index.ts";
export { writeFileAtomic } from "./io/atomic-file.ts";
export { CheckpointError, ConfigError } from "./io/errors.ts";
export { type ExpectedTensor, expectTensors, type TensorCheck, TensorCheckError } from "./io/expect-tensors.ts";
export { GENERATION_DEFAULTS, type GenerationConfig, generationConfigFrom, readGenerationConfig } from "./io/generation-config.ts";
export { Checkpoint, openCheckpoint } from "./io/hf-checkpoint.ts";
export { type WriteCheckpointOptions, type WrittenCheckpoint, writeCheckpoint } from "./io/hf-checkpoint-write.ts";
export { parseJson, readJsonFile, readJsonObject } from "./io/json.ts";
export { type ModelConfig, modelConfigFrom, readModelConfig } from "./io/model-config.ts";
export { bytesPerParameter, estimateModelSize, type ModelSizeEstimate, type ModelSizeProblem, maxLayers, modelSizeProblem } from "./io/model-size.ts";
export { type PathKind, pathKind, specialFileName } from "./io/regular-file.ts";
export { parseRepoId, type RepoId, type RepoSourceAnswer, type RepoSourceRequest, resolveModelPath, resolveRepoSource } from "./io/repo-source.ts";
export { SAFETENSORS_DTYPES, type SafetensorsDType } from "./io/safetensors-dtype.ts";
export { parseSafetensorsHeader, type SafetensorsHeader, type TensorInfo } from "./io/safetensors-header.ts";
export { openSafetensors, SafetensorsFile } from "./io/safetensors-read.ts";
export { type SafetensorsEntry, writeSafetensors } from "./io/safetensors-write.ts";
export type { LoadDType, LoadOptions } from "./io/tensor-upload.ts";
export { copyTokenizerFiles, TOKENIZER_FILES } from "./io/tokenizer-files.ts";
export { type NativeSvd, type NativeSvdResult, nativeSvd, setNativeSvd } from "./linalg/native-svd.ts";
export { type SVD, svdJacobi, svdTop, type TopSvdOptions, truncateSvd } from "./linalg/svd.ts";
export * from "./nn/index.ts";
export { type OptimizerConflict, type OptimizerSettings, type OptimizerUse, optimizerFactory } from "./optim/entry.ts";
export { buildGroups, defaultNoDecay, type GroupRule, type NoDecay, normaliseGroups, type ParamGroup, type ParamGroupInput } from "./optim/groups.ts";
export {
  checkHyper,
  checkMeta,
  dropGrads,
  exportSlots,
  firstNonFinite,
  type HostTensor,
  type NonFiniteParam,
  type Optimizer,
  type OptimizerContext,
  type OptimizerFactory,
  type OptimizerMeta,
  slotData,
  stateTensor,
} from "./optim/optimizer.ts";
export * from "./plan/index.ts";
export { mulberry32 } from "./random/mulberry32.ts";
export { Philox, philox4x32 } from "./random/philox.ts";
export { knownList } from "./registry/suggest.ts";
export * from "./registry.ts";
export {
  describeHolder,
  type Locked,
  type LockHolder,
  lockOutput,
  OUTPUT_LOCK_FILE,
  type OutputLock,
  OutputLockError,
  outputLockHolder,
} from "./run/output-lock.ts";
export * from "./run/recipe.ts";
export { type RunContext, type RunOutcome, runRecipe } from "./run/run-recipe.ts";
export { type RunInfo, storeHooks } from "./store/hooks.ts";
export { lftHome, runStorePath } from "./store/location.ts";
export type { RunStatus } from "./store/schema.ts";
export { type MetricPoint, type NewRun, type RunRecord, RunStore, StoreError } from "./store/store.ts";
export {
  type AllocatorOptions,
  type Block,
  CachingAllocator,
  formatBytes,
  MemoryLimitError,
  type MemoryStats,
  type RawMemory,
  sizeClass,
} from "./tensor/allocator.ts";
export { type CreateOptions, empty, full, rand, randn, tensor, zeros } from "./tensor/create.ts";
export type { DType, HostArray } from "./tensor/dtype.ts";
export { DTYPE_BYTES, DTYPES, hostArrayFor, isFloat } from "./tensor/dtype.ts";
export { keep, scopeDepth, tidy } from "./tensor/scope.ts";
export { checkedBytes, checkedMul, checkedNumel, formatShape, MAX_COUNT, numel, type Shape, ShapeError } from "./tensor/shape.ts";
export { Storage, Tensor } from "./tensor/tensor.ts";
export { ChatTemplateError, type ChatTemplateOptions, renderChatTemplate } from "./tokenizer/chat-template.ts";
export { HfTokenizer } from "./tokenizer/hf-tokenizer.ts";
export { loadTokenizer, TokenizerError } from "./tokenizer/load.ts";
export { type ParallelEncodeOptions, parallelEncode } from "./tokenizer/parallel.ts";
export type { ChatMessage, DecodeOptions, EncodeOptions, Tokenizer } from "./tokenizer/tokenizer.ts";
export { type JsonValue, type ResumableBatches, type ShuffledBatchesOptions, shuffledBatches } from "./train/batches.ts";
export { type BestSpec, bestMetric } from "./train/best.ts";
export { type CheckpointVerdict, MANIFEST_FILE, verifyCheckpoint } from "./train/checkpoint-manifest.ts";
export { clipGradients, globalGradNorm } from "./train/clip.ts";
export { TrainError, type TrainErrorReason } from "./train/errors.ts";
export { evalLoss } from "./train/eval.ts";
export type { HookHost, RunHandlers } from "./train/events.ts";
export { type CheckpointSpec, type EvalOutput, type EvalSpec, type TrainOptions, type TrainResult, train } from "./train/loop.ts";
export {
  type AppliedMethod,
  type ApplyContext,
  countElements,
  type LoadContext,
  MethodError,
  type MethodPayload,
  methodEntry,
  type RandomStream,
} from "./train/method.ts";
export { formatDuration, type ProgressOptions, progressHandlers } from "./train/progress.ts";
export { type RngState, TrainRng } from "./train/rng.ts";
export {
  type CheckpointRef,
  type IntactCheckpoint,
  latestCheckpoint,
  latestIntactCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  readCheckpointTensors,
  removeStaleTemps,
  saveCheckpoint,
} from "./train/run-checkpoint.ts";
export { makeSchedule, type Schedule, type ScheduleKind, type ScheduleSpec } from "./train/schedule.ts";
export { interruptOnSignals, type SignalGuard } from "./train/signals.ts";
export * from "./train/stage.ts";
export type { LossFn, LossOutput, StepContext } from "./train/step.ts";
