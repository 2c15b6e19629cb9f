// Public entry of the data worker (re-exported by core/index.ts): dataset_info.json, readers,
// the format and template contracts plugins implement, processing, mixing, batching, cache.

export { cacheKey, fileHash, tokenizerFingerprint } from "./cache.ts";
export type { ChatEncoder, ChatTemplate } from "./chat-encoder.ts";
export { type Batch, batchOrder, type CollateOptions, collate, collateKto, collateKtoRows, collatePairwise } from "./collate.ts";
export { type DatasetFormat, type ExampleBody, formatNameOf, type RowProblem } from "./dataset-format.ts";
export {
  COLUMN_NAMES,
  type Columns,
  confinedEntry,
  DATASET_ROOT,
  type DatasetAttr,
  type DatasetInfo,
  DEFAULT_COLUMNS,
  DEFAULT_TAGS,
  datasetAttr,
  fileDatasetAttr,
  loadDatasetInfo,
  MAX_DATASET_INFO_BYTES,
  readDatasetInfoText,
  TAG_NAMES,
  type Tags,
} from "./dataset-info.ts";
export { hubRepoRoot, localDatasetEntry } from "./hub-entry.ts";
export { MIX_STRATEGIES, type MixStrategy, mixOrder, mixStreams } from "./mix.ts";
export { type DataOptions, dataOptionSchema, processOptions, readLimits } from "./options.ts";
export { type DataProgress, type PreparedData, type PrepareInput, prepareData } from "./pipeline.ts";
export { type BadRow, DataError, isNote, type SkipReason, SkipReport } from "./problems.ts";
export { addsBos, type BatchResult, type ProcessContext, repeat, type SampleProcessor, skip } from "./process/context.ts";
export { greedyKnapsack } from "./process/knapsack.ts";
export type { ProcessOptions } from "./process/options.ts";
export { type PackOptions, packSequences } from "./process/packed.ts";
export { inferSeqlen } from "./process/seqlen.ts";
export { dataRng, permutation } from "./random.ts";
export { type DataFile, datasetFiles, type FileType, fileType, readFile } from "./read/files.ts";
export { readJsonl } from "./read/jsonl.ts";
export { DEFAULT_MAX_JSON_BYTES, DEFAULT_READ_LIMITS, type ReadLimits } from "./read/limits.ts";
export { type ByteSource, type Line, readLines } from "./read/lines.ts";
export type { ReadItem, RowStream } from "./read/rows.ts";
export { selectRows } from "./select.ts";
export { bindTemplate, type DataInput } from "./setup.ts";
export { splitTrainEval } from "./split.ts";
export { type DataStream, shuffleBuffer, streamData } from "./stream.ts";
export type {
  DataKind,
  Example,
  ExampleKind,
  KtoExample,
  KtoSample,
  Message,
  PairwiseExample,
  PairwiseSample,
  PromptSample,
  Role,
  RowSource,
  Sample,
  SampleOf,
  SftExample,
  TextExample,
  TokenSeq,
} from "./types.ts";
export { formatSource, IGNORE_INDEX } from "./types.ts";
