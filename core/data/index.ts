// Public entry of the data worker (re-exported by core/index.ts): dataset_info.json, readers,
// the format and template contracts plugins implement, processing, mixing, batching, cache.
export { IGNORE_INDEX, formatSource } from "./types.ts";
export type {
  DataKind, Example, ExampleKind, KtoExample, KtoSample, Message, PairwiseExample, PairwiseSample, Role, RowSource, Sample,
  SampleOf, SftExample, TextExample, TokenSeq,
} from "./types.ts";
export { DataError, SkipReport, type BadRow, type SkipReason } from "./problems.ts";
export {
  COLUMN_NAMES, DEFAULT_COLUMNS, DEFAULT_TAGS, TAG_NAMES, datasetAttr, fileDatasetAttr, loadDatasetInfo,
  type Columns, type DatasetAttr, type DatasetInfo, type Tags,
} from "./dataset-info.ts";
export { datasetFiles, fileType, readFile, type DataFile, type FileType } from "./read/files.ts";
export { readLines, type ByteSource } from "./read/lines.ts";
export { readJsonl } from "./read/jsonl.ts";
export type { ReadItem, RowStream } from "./read/rows.ts";
export { formatNameOf, type DatasetFormat, type ExampleBody, type RowProblem } from "./dataset-format.ts";
export type { ChatEncoder, ChatTemplate } from "./chat-encoder.ts";
export { inferSeqlen } from "./process/seqlen.ts";
export { greedyKnapsack } from "./process/knapsack.ts";
export type { ProcessOptions } from "./process/options.ts";
export type { ProcessContext } from "./process/context.ts";
export { processBatch } from "./process/index.ts";
export { encodeSupervised } from "./process/supervised.ts";
export { dataOptionSchema, processOptions, type DataOptions } from "./options.ts";
export { MIX_STRATEGIES, mixOrder, mixStreams, type MixStrategy } from "./mix.ts";
export { splitTrainEval } from "./split.ts";
export { selectRows } from "./select.ts";
export { dataRng, permutation } from "./random.ts";
export { bindTemplate, type DataInput } from "./setup.ts";
export { prepareData, type DataProgress, type PrepareInput, type PreparedData } from "./pipeline.ts";
export { shuffleBuffer, streamData, type DataStream } from "./stream.ts";
export { batchOrder, collate, collateKto, collatePairwise, type Batch, type CollateOptions } from "./collate.ts";
export { cacheKey, fileHash, tokenizerFingerprint } from "./cache.ts";
