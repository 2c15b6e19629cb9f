// Public surface of core/export: merged Hugging Face checkpoints from a trained method or a PEFT folder.
export { copyTokenizerFiles, exportMerged, exportPeftMerged, TOKENIZER_FILES, type MergeExportOptions, type ExportedModel } from "./merge.ts";
