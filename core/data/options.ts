// The data block's options, with LLaMA-Factory's names and defaults, as one schema the recipe DSL,
// `lft import` and the board all read. Template and format options live with their plugins.
import type { OptionSchema, OptionsOf } from "../registry/options.ts";
import { MIX_STRATEGIES } from "./mix.ts";
import type { SampleProcessor } from "./process/context.ts";
import type { ProcessOptions } from "./process/options.ts";
import { DEFAULT_READ_LIMITS, type ReadLimits } from "./read/limits.ts";

export const dataOptionSchema = {
  dataset: { type: "list", item: { type: "string" }, minLength: 1, required: true, doc: "dataset names in dataset_info.json, mixed in order" },
  dataset_dir: { type: "string", default: "data", doc: "folder holding dataset_info.json and the data files" },
  eval_dataset: { type: "list", item: { type: "string" }, doc: "datasets for evaluation (instead of a val_size split)" },
  template: { type: "string", doc: "chat template; default hf when the model has a chat template, else empty" },
  cutoff_len: { type: "number", integer: true, min: 1, default: 2048, doc: "tokens per sample after templating" },
  train_on_prompt: { type: "boolean", default: false, doc: "learn the prompt tokens too" },
  mask_history: { type: "boolean", default: false, doc: "learn only the last turn of each conversation" },
  packing: { type: "boolean", doc: "pack samples into cutoff_len sequences (default: on for pt, off otherwise)" },
  neat_packing: { type: "boolean", default: false, doc: "pack without cross-sample attention (segment ids, restarting positions)" },
  mix_strategy: { type: "enum", values: [...MIX_STRATEGIES], default: "concat", doc: "how several datasets are mixed" },
  interleave_probs: { type: "list", item: { type: "number", min: 0 }, doc: "per-dataset sampling probabilities for interleaving" },
  max_samples: { type: "number", integer: true, min: 1, doc: "keep at most this many rows of each dataset" },
  val_size: { type: "number", min: 0, default: 0, doc: "validation split: a fraction, or a row count when > 1" },
  seed: { type: "number", integer: true, default: 42, doc: "seed for sampling, mixing, shuffling and the split" },
  streaming: { type: "boolean", default: false, doc: "read lazily instead of loading datasets whole" },
  buffer_size: { type: "number", integer: true, min: 1, default: 16384, doc: "shuffle buffer (rows) when streaming" },
  preprocessing_batch_size: { type: "number", integer: true, min: 1, default: 1000, doc: "rows per processing batch (packing and KTO pairing work per batch)" },
  strict: { type: "boolean", default: false, doc: "a bad row is an error (with its file and row) instead of being skipped and counted" },
  cache_dir: { type: "string", default: "", doc: "folder for the tokenised cache; empty: no cache" },
  overwrite_cache: { type: "boolean", default: false, doc: "re-tokenise even when the cache has this dataset" },
  max_json_bytes: {
    type: "number",
    integer: true,
    min: 1,
    default: DEFAULT_READ_LIMITS.maxJsonBytes,
    doc: "largest .json file read (it is parsed whole; JSONL streams)",
  },
  max_row_chars: {
    type: "number",
    integer: true,
    min: 1,
    default: DEFAULT_READ_LIMITS.maxRowChars,
    doc: "longest row (a JSONL or text line, a CSV record); longer rows are skipped and counted",
  },
} satisfies OptionSchema;

export type DataOptions = OptionsOf<typeof dataOptionSchema>;

/** A processor's view of the options; whether packing is on by default is the processor's (on for pre-training, as in LLaMA-Factory). */
export function processOptions(processor: Pick<SampleProcessor, "packing">, o: DataOptions): ProcessOptions {
  // neat_packing implies packing; a processor that never packs ignores both.
  const packs = processor.packing;
  const packing = packs !== undefined && (o.neat_packing || (o.packing ?? packs.byDefault));
  return {
    cutoffLen: o.cutoff_len,
    trainOnPrompt: o.train_on_prompt,
    maskHistory: o.mask_history,
    packing,
    neatPacking: packing && packs.neat && o.neat_packing,
  };
}

/** How much of a file the readers may hold at once. */
export function readLimits(o: Pick<DataOptions, "max_json_bytes" | "max_row_chars">): ReadLimits {
  return { maxJsonBytes: o.max_json_bytes, maxRowChars: o.max_row_chars };
}
