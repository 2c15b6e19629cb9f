// Data blocks + a stage's settings → tokenised samples from the data worker (core/data), with the
// model's template and tokenizer; prepared once per settings in a session. Also the collation of
// each data kind into the Batch a stage's loss reads.
import { err, ok, type Result } from "neverthrow";
import {
  type Batch,
  collate,
  collateKtoRows,
  collatePairwise,
  type DataKind,
  dataOptionSchema,
  type KtoSample,
  type PairwiseSample,
  type PreparedData,
  prepareData,
  type SampleProcessor,
  type TokenSeq,
  validateOptions,
} from "../../core/index.ts";
import { type DataSource, selectData } from "./datasets.ts";
import { fail, type RunFailure } from "./failure.ts";
import { count, plural } from "./format.ts";
import { type Scope, say, warn } from "./scope.ts";

export interface DataSettings {
  /** The stage's sample processor (its kind names the samples). */
  readonly processor: SampleProcessor;
  readonly cutoff: number;
  /** Undefined: the data worker's default (packing on for pt). LLaMA-Factory's packing: samples concatenated. */
  readonly pack?: boolean;
  /** LLaMA-Factory's neat_packing: packed samples isolated (segment ids); only processors that can honour it. */
  readonly neatPack?: boolean;
  readonly holdout: number;
  readonly seed: number;
  readonly trainOnPrompt?: boolean;
  readonly maskHistory?: boolean;
  /** Stay quiet (predict and eval print their own line). */
  readonly quiet?: boolean;
}

export async function prepare(scope: Scope, sources: readonly DataSource[], s: DataSettings): Promise<Result<PreparedData<DataKind>, RunFailure>> {
  const { recipe, registry, io, state } = scope;
  const selection = await selectData(recipe, sources, registry, io.cwd, io);
  if (selection.isErr()) return err(selection.error);
  const template = recipe.model?.options.template;
  const raw: Record<string, unknown> = {
    dataset: selection.value.names,
    dataset_dir: recipe.baseDir,
    cutoff_len: s.cutoff,
    val_size: s.holdout,
    seed: s.seed,
    ...selection.value.mix,
    ...(typeof template === "string" ? { template } : {}),
    ...(s.pack === undefined ? {} : { packing: s.pack }),
    ...(s.neatPack === undefined ? {} : { neat_packing: s.neatPack }),
    ...(s.trainOnPrompt === undefined ? {} : { train_on_prompt: s.trainOnPrompt }),
    ...(s.maskHistory === undefined ? {} : { mask_history: s.maskHistory }),
  };
  const options = validateOptions(dataOptionSchema, raw, "data");
  if (options.isErr()) return fail(options.error.map((e) => e.message).join("; "));
  const key = JSON.stringify({ info: selection.value.info, kind: s.processor.kind, options: options.value });
  const cached = state.data.get(key);
  if (cached !== undefined) return ok(cached);

  const prepared = await prepareData({
    registry,
    tokenizer: state.tokenizer,
    processor: s.processor,
    options: options.value,
    datasetInfo: selection.value.info,
  });
  if (prepared.isErr()) return fail(`data: ${prepared.error.message}`);
  const data = prepared.value;
  const skipped = data.report.summary();
  if (skipped !== "") warn(io, `data: ${skipped}`);
  for (const w of data.encoder.warnings) warn(io, `template ${data.encoder.name}: ${w}`);
  if (data.train.length === 0 && data.eval.length === 0) {
    return fail(`data: no usable samples in ${selection.value.labels.join(", ")} (${plural(data.rows, "row")} read${skipped === "" ? "" : `; ${skipped}`})`);
  }
  if (!s.quiet) {
    const lengths = data.train.flatMap(sequences).map((q) => q.inputIds.length);
    const tokens = lengths.reduce((a, b) => a + b, 0);
    const held = data.eval.length > 0 ? `, ${count(data.eval.length)} held out` : "";
    const packed = data.train.some((x) => (x as Partial<TokenSeq>).segmentIds !== undefined)
      ? ", neat-packed (samples isolated)"
      : data.train.some((x) => (x as Partial<TokenSeq>).positionIds !== undefined)
        ? ", packed (samples attend across)"
        : "";
    say(
      io,
      `data: ${count(data.train.length)} ${s.processor.kind} samples from ${selection.value.labels.join(" + ")}, template ${data.encoder.name}, ${count(tokens)} tokens (longest ${count(lengths.reduce((m, x) => Math.max(m, x), 0))})${packed}${held}`,
    );
  }
  state.data.set(key, data);
  return ok(data);
}

/** The token sequences inside a sample of any kind. */
export function sequences(sample: unknown): TokenSeq[] {
  const s = sample as Partial<TokenSeq & PairwiseSample & { seq: TokenSeq; kl: TokenSeq; prompt: TokenSeq }>;
  if (s.inputIds !== undefined) return [s as TokenSeq];
  if (s.prompt !== undefined) return [s.prompt];
  if (s.chosen !== undefined && s.rejected !== undefined) return [s.chosen, s.rejected];
  if (s.seq !== undefined) return [s.seq];
  return [];
}

/** How samples of a kind become one Batch for a stage's loss, or why this runner cannot batch them. */
export function collatorFor(kind: DataKind, padId: number): Result<(samples: readonly unknown[]) => Batch, RunFailure> {
  switch (kind) {
    case "pt":
    case "sft":
      return ok((samples) => collate(samples as TokenSeq[], { padId }));
    case "pairwise":
      return ok((samples) => collatePairwise(samples as PairwiseSample[], { padId }));
    case "prompt":
      return fail("prompt-only samples are turned into batches by their stage (it samples completions for them); this stage does not");
    case "kto":
      return ok((samples) => collateKtoRows(samples as KtoSample[], { padId }));
  }
}
