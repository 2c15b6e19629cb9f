// The streaming pipeline: rows are read lazily (JSONL, text and CSV in chunks, Parquet by row group),
// converted, mixed and tokenised batch by batch, and shuffled through a bounded buffer, so a dataset
// larger than memory trains in bounded memory. As in LLaMA-Factory's streaming mode, num_samples does
// not apply, max_samples takes the first rows, and val_size (a count) takes the first shuffled samples.
import { err, ok, type Result } from "neverthrow";
import type { Philox } from "../random/philox.ts";
import type { ChatEncoder } from "./chat-encoder.ts";
import { convertStream, StopError } from "./convert.ts";
import { mixStreams } from "./mix.ts";
import { readLimits } from "./options.ts";
import { DataError, isNote, SkipReport } from "./problems.ts";
import { dataRng } from "./random.ts";
import { readFile } from "./read/files.ts";
import type { ReadItem } from "./read/rows.ts";
import { bindTemplate, type DataInput, type ResolvedDataset, resolveDatasets } from "./setup.ts";
import type { DataKind, Example, SampleOf } from "./types.ts";

export interface DataStream<K extends DataKind> {
  readonly encoder: ChatEncoder;
  /** Grows as rows are read. */
  readonly report: SkipReport;
  /** The first val_size shuffled samples, taken before training starts. */
  readonly eval: SampleOf[K][];
  /** Training samples, once through the data. Throws DataError when strict meets a bad row. */
  samples(): AsyncGenerator<SampleOf[K]>;
}

export async function streamData<K extends DataKind>(input: DataInput<K>): Promise<Result<DataStream<K>, DataError>> {
  const setup = bindTemplate(input);
  if (setup.isErr()) return err(setup.error);
  const datasets = await resolveDatasets(input, input.options.dataset);
  if (datasets.isErr()) return err(datasets.error);
  const o = input.options;
  if (o.val_size > 0 && !Number.isInteger(o.val_size)) return err(new DataError(`streaming needs val_size as a sample count, found ${o.val_size}`));
  const report = new SkipReport();

  async function* tokenised(): AsyncGenerator<SampleOf[K]> {
    const sources = datasets._unsafeUnwrap().map((d) => examplesOf(d, input, report)[Symbol.asyncIterator]());
    const mixed = mixStreams(sources, o.mix_strategy, o.interleave_probs, dataRng(o.seed, "mix"));
    let batch: Example[] = [];
    const flush = function* (): Generator<SampleOf[K]> {
      const result = input.processor.build(batch, setup._unsafeUnwrap().ctx);
      batch = [];
      for (const bad of result.bad) {
        const added = report.add(bad, o.strict);
        if (added.isErr()) throw added.error;
      }
      yield* result.samples;
    };
    try {
      for await (const ex of mixed) {
        batch.push(ex);
        if (batch.length >= o.preprocessing_batch_size) yield* flush();
      }
      if (batch.length > 0) yield* flush();
    } catch (e) {
      throw e instanceof StopError ? e.error : e;
    }
  }

  const shuffled = shuffleBuffer(tokenised(), o.buffer_size, dataRng(o.seed, "shuffle"));
  const evalSamples: SampleOf[K][] = [];
  try {
    while (evalSamples.length < o.val_size) {
      const r = await shuffled.next();
      if (r.done) break;
      evalSamples.push(r.value);
    }
  } catch (e) {
    if (e instanceof DataError) return err(e);
    throw e;
  }
  return ok({
    encoder: setup.value.encoder,
    report,
    eval: evalSamples,
    async *samples() {
      for (let r = await shuffled.next(); !r.done; r = await shuffled.next()) yield r.value;
    },
  });
}

/** One dataset's examples, lazily, with max_samples taking the first rows. */
async function* examplesOf(d: ResolvedDataset, input: DataInput, report: SkipReport): AsyncGenerator<Example> {
  const max = input.options.max_samples ?? Infinity;
  let rows = 0;
  async function* items(): AsyncGenerator<ReadItem> {
    for (const file of d.files) {
      for await (const item of readFile(file, d.attr.name, readLimits(input.options))) {
        if (item.kind === "bad" && isNote(item.bad.reason)) {
          const added = report.add(item.bad, input.options.strict);
          if (added.isErr()) throw added.error;
          continue;
        }
        if (rows++ >= max) return;
        yield item;
      }
    }
  }
  yield* convertStream(items(), d.attr, d.format, input.processor, report, input.options.strict);
}

/** A shuffle through a buffer of `size` items (Hugging Face's IterableDataset.shuffle). */
export async function* shuffleBuffer<T>(source: AsyncIterable<T>, size: number, rng: Philox): AsyncGenerator<T> {
  const buf: T[] = [];
  for await (const x of source) {
    if (buf.length < size) {
      buf.push(x);
      continue;
    }
    const i = rng.nextInt(size);
    const out = buf[i]!;
    buf[i] = x;
    yield out;
  }
  rng.shuffle(buf);
  yield* buf;
}
