// The in-memory data pipeline, in LLaMA-Factory's order: read each dataset, select rows (num_samples,
// max_samples), convert through the format, mix, tokenise in batches, then split off validation.
// Tokenised samples are cached on disk; a second run with the same inputs skips straight to the split.
import { err, ok, type Result } from "neverthrow";
import { cacheKey, fileHash, readCache, tokenizerFingerprint, writeCache } from "./cache.ts";
import type { ChatEncoder } from "./chat-encoder.ts";
import { convertItem, isBadRow } from "./convert.ts";
import { mixOrder } from "./mix.ts";
import { readLimits } from "./options.ts";
import { type DataError, isNote, SkipReport } from "./problems.ts";
import { dataRng } from "./random.ts";
import { readFile } from "./read/files.ts";
import type { ReadItem } from "./read/rows.ts";
import { selectRows } from "./select.ts";
import { bindTemplate, type DataInput, type DataSetup, type ResolvedDataset, resolveDatasets } from "./setup.ts";
import { splitTrainEval } from "./split.ts";
import type { DataKind, Example, SampleOf } from "./types.ts";

export interface DataProgress {
  readonly phase: "read" | "tokenize";
  readonly done: number;
  readonly total: number;
}

export interface PreparedData<K extends DataKind> {
  readonly train: SampleOf[K][];
  readonly eval: SampleOf[K][];
  /** Rows skipped, by reason; print `report.summary()`. */
  readonly report: SkipReport;
  readonly encoder: ChatEncoder;
  /** Rows read (after selection), before conversion. */
  readonly rows: number;
  readonly fromCache: boolean;
  readonly cachePath: string | null;
}

export interface PrepareInput<K extends DataKind> extends DataInput<K> {
  readonly onProgress?: (p: DataProgress) => void;
}

export async function prepareData<K extends DataKind>(input: PrepareInput<K>): Promise<Result<PreparedData<K>, DataError>> {
  const setup = bindTemplate(input);
  if (setup.isErr()) return err(setup.error);
  const train = await buildSamples(input, setup.value, input.options.dataset);
  if (train.isErr()) return err(train.error);
  let trainSamples = train.value.samples;
  let evalSamples: SampleOf[K][] = [];
  const report = train.value.report;
  const evalNames = input.options.eval_dataset;
  if (evalNames !== undefined && evalNames.length > 0) {
    const ev = await buildSamples(input, setup.value, evalNames);
    if (ev.isErr()) return err(ev.error);
    evalSamples = ev.value.samples;
    report.merge(ev.value.report);
  } else if (input.options.val_size > 0) {
    const split = splitTrainEval(trainSamples, input.options.val_size, dataRng(input.options.seed, "split"));
    trainSamples = split.train;
    evalSamples = split.eval;
  }
  return ok({
    train: trainSamples,
    eval: evalSamples,
    report,
    encoder: setup.value.encoder,
    rows: train.value.rows,
    fromCache: train.value.fromCache,
    cachePath: train.value.cachePath,
  });
}

interface Built<K extends DataKind> {
  samples: SampleOf[K][];
  report: SkipReport;
  rows: number;
  fromCache: boolean;
  cachePath: string | null;
}

async function buildSamples<K extends DataKind>(input: PrepareInput<K>, setup: DataSetup, names: readonly string[]): Promise<Result<Built<K>, DataError>> {
  const datasets = await resolveDatasets(input, names);
  if (datasets.isErr()) return err(datasets.error);
  const o = input.options;
  const cacheDir = o.cache_dir;
  let key: string | null = null;
  if (cacheDir !== "") {
    const hashes = await Promise.all(datasets.value.map(async (d) => Promise.all(d.files.map((f) => fileHash(f.path)))));
    key = cacheKey({
      kind: input.processor.kind,
      datasets: datasets.value.map((d, i) => ({ attr: d.attr, format: d.formatName, hashes: hashes[i] })),
      template: setup.templateName,
      templateOptions: setup.templateOptions,
      tokenizer: input.tokenizerKey ?? tokenizerFingerprint(input.tokenizer),
      process: setup.ctx.options,
      select: [o.max_samples, o.seed, o.mix_strategy, o.interleave_probs, o.preprocessing_batch_size, o.strict, o.max_json_bytes, o.max_row_chars],
    });
    if (!o.overwrite_cache) {
      const hit = await readCache(cacheDir, key, input.processor.kind);
      if (hit !== null) return ok({ samples: hit.samples, report: hit.report, rows: hit.rows, fromCache: true, cachePath: `${cacheDir}/${key}.lftdata` });
    }
  }

  const report = new SkipReport();
  const perDataset: Example[][] = [];
  let rows = 0;
  for (const d of datasets.value) {
    const examples = await readDataset(d, input, report);
    if (examples.isErr()) return err(examples.error);
    rows += examples.value.rows;
    perDataset.push(examples.value.examples);
  }
  const order = mixOrder(
    perDataset.map((e) => e.length),
    o.mix_strategy,
    o.interleave_probs,
    dataRng(o.seed, "mix"),
  );
  const mixed = order.map(([s, i]) => perDataset[s]![i]!);

  const samples: SampleOf[K][] = [];
  const batch = o.preprocessing_batch_size;
  for (let i = 0; i < mixed.length; i += batch) {
    const result = input.processor.build(mixed.slice(i, i + batch), setup.ctx);
    for (const bad of result.bad) {
      const added = report.add(bad, o.strict);
      if (added.isErr()) return err(added.error);
    }
    for (const s of result.samples) samples.push(s);
    input.onProgress?.({ phase: "tokenize", done: Math.min(i + batch, mixed.length), total: mixed.length });
  }
  let cachePath: string | null = null;
  if (key !== null) cachePath = await writeCache(cacheDir, key, input.processor.kind, { samples, report, rows });
  return ok({ samples, report, rows, fromCache: false, cachePath });
}

/** One dataset's examples: all rows read, selected, converted; bad rows into the report. */
async function readDataset(d: ResolvedDataset, input: DataInput, report: SkipReport): Promise<Result<{ examples: Example[]; rows: number }, DataError>> {
  const o = input.options;
  const items: ReadItem[] = [];
  for (const file of d.files) {
    for await (const item of readFile(file, d.attr.name, readLimits(o))) {
      // Blank lines and invalid-UTF-8 notes are not rows: reported, never selected.
      if (item.kind === "bad" && isNote(item.bad.reason)) {
        const added = report.add(item.bad, o.strict);
        if (added.isErr()) return err(added.error);
      } else items.push(item);
    }
  }
  const selected = selectRows(items, { numSamples: d.attr.numSamples, maxSamples: o.max_samples, rng: dataRng(o.seed, "sample") });
  const examples: Example[] = [];
  for (const item of selected) {
    const r = convertItem(item, d.attr, d.format, input.processor);
    if (isBadRow(r)) {
      const added = report.add(r, o.strict);
      if (added.isErr()) return err(added.error);
    } else examples.push(r);
  }
  return ok({ examples, rows: selected.length });
}
