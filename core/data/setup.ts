// What both pipelines (in memory and streaming) resolve before reading a row: the chat template
// bound to the tokenizer, each dataset's entry, format and files, and the processing options. Every
// mistake here is an error naming what is wrong, before any work is done.
import { err, ok, type Result } from "neverthrow";
import { validateOptions } from "../registry/options.ts";
import type { Registry } from "../registry/registry.ts";
import type { Tokenizer } from "../tokenizer/tokenizer.ts";
import type { ChatEncoder } from "./chat-encoder.ts";
import { checkFormatFits } from "./convert.ts";
import { type DatasetFormat, formatNameOf } from "./dataset-format.ts";
import { type DatasetAttr, type DatasetInfo, datasetAttr, loadDatasetInfo } from "./dataset-info.ts";
import { type DataOptions, processOptions } from "./options.ts";
import { DataError } from "./problems.ts";
import { addsBos, type ProcessContext, type SampleProcessor } from "./process/context.ts";
import { type DataFile, datasetFiles } from "./read/files.ts";
import type { DataKind } from "./types.ts";

export interface DataInput<K extends DataKind = DataKind> {
  readonly registry: Registry;
  readonly tokenizer: Tokenizer;
  /** The stage's sample builder (its StageEntry.processor): which examples it takes and what samples it makes. */
  readonly processor: SampleProcessor<K>;
  /** Validated against dataOptionSchema (validateOptions fills the defaults). */
  readonly options: DataOptions;
  /** The template's own options (e.g. enable_thinking), checked against its schema here. */
  readonly templateOptions?: unknown;
  /** Identifies the tokenizer in the cache key (e.g. a hash of tokenizer.json); default: a fingerprint. */
  readonly tokenizerKey?: string;
  /**
   * Entries to use instead of reading `dataset_dir/dataset_info.json`: a recipe that names files
   * (`dataset alpaca "data/identity.json"`) gets entries made for them, with absolute file names.
   */
  readonly datasetInfo?: DatasetInfo;
}

export interface ResolvedDataset {
  readonly attr: DatasetAttr;
  readonly formatName: string;
  readonly format: DatasetFormat;
  readonly files: DataFile[];
}

export interface DataSetup {
  readonly encoder: ChatEncoder;
  readonly templateName: string;
  readonly templateOptions: unknown;
  readonly ctx: ProcessContext;
}

export function bindTemplate(input: DataInput): Result<DataSetup, DataError> {
  const { registry, tokenizer, options } = input;
  if (options.mask_history && options.train_on_prompt) return err(new DataError("mask_history cannot be combined with train_on_prompt"));
  const name = options.template ?? (tokenizer.chatTemplate !== null ? "hf" : "empty");
  const entry = registry.get("templates", name);
  if (entry.isErr()) return err(new DataError(entry.error.message));
  const opts = validateOptions(entry.value.options ?? {}, input.templateOptions, `chat template "${name}"`);
  if (opts.isErr()) return err(new DataError(opts.error.map((e) => e.message).join("; ")));
  const encoder = entry.value.create(tokenizer, opts.value);
  if (encoder.isErr()) return err(new DataError(encoder.error));
  if (encoder.value.efficientEos && options.train_on_prompt)
    return err(new DataError(`chat template "${name}" (efficient_eos) does not support train_on_prompt`));
  const ctx: ProcessContext = { encoder: encoder.value, tokenizer, options: processOptions(input.processor, options), addsBos: addsBos(tokenizer) };
  return ok({ encoder: encoder.value, templateName: name, templateOptions: opts.value, ctx });
}

/** The datasets named, with their formats and files; the first problem found is the error. */
export async function resolveDatasets(input: DataInput, names: readonly string[]): Promise<Result<ResolvedDataset[], DataError>> {
  const dir = input.options.dataset_dir;
  const info = input.datasetInfo ? ok(input.datasetInfo) : await loadDatasetInfo(dir);
  if (info.isErr()) return err(info.error);
  const out: ResolvedDataset[] = [];
  for (const name of names) {
    const r = resolveOne(input, info.value, name, dir);
    if (r.isErr()) return err(r.error);
    out.push(r.value);
  }
  const probs = input.options.interleave_probs;
  if (probs !== undefined) {
    if (probs.length !== names.length) return err(new DataError(`interleave_probs has ${probs.length} values for ${names.length} datasets`));
    const sum = probs.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-6) return err(new DataError(`interleave_probs must sum to 1, found ${sum}`));
  }
  return ok(out);
}

function resolveOne(input: DataInput, info: DatasetInfo, name: string, dir: string): Result<ResolvedDataset, DataError> {
  const attr = datasetAttr(info, name, `${dir}/dataset_info.json`);
  if (attr.isErr()) return err(attr.error);
  const formatName = formatNameOf(attr.value);
  const format = input.registry.get("datasets", formatName);
  if (format.isErr()) return err(new DataError(`dataset "${name}": ${format.error.message}`));
  const fits = checkFormatFits(attr.value, formatName, format.value, input.processor);
  if (fits.isErr()) return err(fits.error);
  const files = datasetFiles(attr.value, dir, input.options.max_json_bytes);
  if (files.isErr()) return err(files.error);
  return ok({ attr: attr.value, formatName, format: format.value, files: files.value });
}
