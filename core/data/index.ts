// Public entry of the data worker (re-exported by core/index.ts): dataset_info.json, readers,
// the format and template contracts plugins implement, processing, mixing, batching, cache, preview.
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
export { formatNameOf, type DatasetFormat, type ExampleBody } from "./format/entry.ts";
export { asRow, optionalString, problem, requireString, toolsText, type Row, type RowProblem } from "./format/row-fields.ts";
export { alpacaPrompt, type AlpacaPrompt } from "./format/alpaca-rows.ts";
export { alignSharegpt, RESPONSE_ROLES, roleOf, splitLastTurn, turnOf, type AlignedTurns } from "./format/sharegpt-rows.ts";
export { alignOpenai, OPENAI_TAGS } from "./format/openai-rows.ts";
export type { ChatEncoder } from "./template/encoder.ts";
export { BOS, EOS, type Slot, type SlotTemplateSpec } from "./template/spec.ts";
export { createSlotEncoder, fixSpecialTokens, type SlotTemplateOptions } from "./template/slot-encoder.ts";
export { defineSlotTemplate, reasoningTemplateOptions, slotTemplateOptions, type ChatTemplate, type SlotTemplateEntry } from "./template/entry.ts";
export { createHfEncoder } from "./template/hf-encoder.ts";
export { pyJsonDumps } from "./template/pyjson.ts";
export { TOOL_FORMATS, type ToolFormat } from "./template/tools.ts";
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
export { previewDataset, type PreviewOptions } from "./preview.ts";
export { progressBar } from "./progress.ts";
