// `lft data preview`: a few samples of a dataset, built by the stage's own processor, as printable
// text, masked (prompt) spans highlighted, and token counts over the whole set (with a progress bar).

import { err, ok, type Result } from "neverthrow";
import {
  DataError,
  type DataKind,
  type DatasetInfo,
  dataOptionSchema,
  IGNORE_INDEX,
  type KtoSample,
  type PairwiseSample,
  type PromptSample,
  prepareData,
  type ReadLimits,
  type Registry,
  type Sample,
  type SampleProcessor,
  type Tokenizer,
  type TokenSeq,
  validateOptions,
} from "../../core/index.ts";
import { progressBar } from "./progress-bar.ts";

export interface PreviewOptions {
  readonly registry: Registry;
  readonly tokenizer: Tokenizer;
  /** Folder with dataset_info.json (the CLI's --dataset-dir, default "data"). */
  readonly datasetDir: string;
  readonly dataset: string;
  /** Chat template; default hf when the model has a chat template, else empty. */
  readonly template?: string;
  readonly templateOptions?: unknown;
  /** The stage whose sample processor builds the samples (default sft). */
  readonly stage?: string;
  /** A processor to use instead of a stage's (e.g. the pairwise one, before a stage registers it). */
  readonly processor?: SampleProcessor;
  /** Samples shown (default 3). */
  readonly count?: number;
  readonly cutoffLen?: number;
  /** ANSI colours (masked spans dim on grey); otherwise masked spans are wrapped in ⟦ ⟧. */
  readonly color?: boolean;
  /** Entries to use instead of reading datasetDir/dataset_info.json (a hub dataset made local). */
  readonly datasetInfo?: DatasetInfo;
  /** How much of a file the readers may hold (default: the data options' defaults). */
  readonly limits?: ReadLimits;
  /** Receives progress-bar lines while the set is tokenised (only called for sets above 1,000 rows). */
  readonly onProgress?: (line: string) => void;
}

export async function previewDataset(opts: PreviewOptions): Promise<Result<string, DataError>> {
  const processor = opts.processor !== undefined ? ok(opts.processor) : stageProcessor(opts.registry, opts.stage ?? "sft");
  if (processor.isErr()) return err(processor.error);
  const kind = processor.value.kind;
  const options = validateOptions(
    dataOptionSchema,
    {
      dataset: [opts.dataset],
      dataset_dir: opts.datasetDir,
      ...(opts.template && { template: opts.template }),
      ...(opts.cutoffLen && { cutoff_len: opts.cutoffLen }),
      ...(opts.limits && { max_json_bytes: opts.limits.maxJsonBytes, max_row_chars: opts.limits.maxRowChars }),
    },
    "data preview",
  );
  if (options.isErr()) return err(new DataError(options.error.map((e) => e.message).join("; ")));
  const prepared = await prepareData({
    registry: opts.registry,
    tokenizer: opts.tokenizer,
    processor: processor.value,
    options: options.value,
    templateOptions: opts.templateOptions,
    ...(opts.datasetInfo && { datasetInfo: opts.datasetInfo }),
    onProgress: opts.onProgress && ((p) => p.total > 1000 && opts.onProgress!(progressBar(p.done, p.total))),
  });
  if (prepared.isErr()) return err(prepared.error);
  const { train, report, encoder, rows } = prepared.value;
  const mark = marker(opts.color ?? false);
  const lines: string[] = [`dataset ${opts.dataset} · template ${encoder.name} · ${kind} · ${rows} rows → ${train.length} samples`];
  const shown = train.slice(0, opts.count ?? 3);
  shown.forEach((s, i) => {
    const shownParts =
      kind === "kto" ? [...parts(kind, s), [" KL pair (the prompt with another example's reply)", (s as KtoSample).kl] as [string, TokenSeq]] : parts(kind, s);
    for (const [title, seq] of shownParts) {
      const learned = seq.labels.filter((l) => l !== IGNORE_INDEX).length;
      lines.push(`── sample ${i + 1}${title} · ${seq.inputIds.length} tokens, ${learned} learned`);
      lines.push(render(opts.tokenizer, seq, mark));
    }
  });
  let tokens = 0;
  let learned = 0;
  let longest = 0;
  let sequences = 0;
  for (const s of train) {
    for (const [, seq] of parts(kind, s)) {
      sequences++;
      tokens += seq.inputIds.length;
      learned += seq.labels.filter((l) => l !== IGNORE_INDEX).length;
      longest = Math.max(longest, seq.inputIds.length);
    }
  }
  lines.push(
    `tokens: ${fmt(tokens)} in ${fmt(train.length)} samples (${fmt(learned)} learned), longest ${fmt(longest)}, mean ${fmt(Math.round(tokens / Math.max(1, sequences)))}${sequences > train.length ? ` per sequence (${fmt(sequences)} sequences)` : ""}`,
  );
  lines.push(report.total > 0 ? report.summary() : "skipped: none");
  return ok(lines.join("\n"));
}

function stageProcessor(registry: Registry, stage: string): Result<SampleProcessor, DataError> {
  const entry = registry.get("stages", stage);
  if (entry.isErr()) return err(new DataError(entry.error.message));
  if (entry.value.processor === undefined) return err(new DataError(`stage "${stage}" builds no samples (it registers no sample processor)`));
  return ok(entry.value.processor);
}

function parts(kind: DataKind, s: Sample): [string, TokenSeq][] {
  if (kind === "pairwise")
    return [
      [" chosen", (s as PairwiseSample).chosen],
      [" rejected", (s as PairwiseSample).rejected],
    ];
  if (kind === "kto") return [[(s as KtoSample).desirable ? " (desirable)" : " (undesirable)", (s as KtoSample).seq]];
  if (kind === "prompt")
    return [
      [" prompt", (s as PromptSample).prompt],
      [" reference", (s as PromptSample).reference],
    ];
  return [["", s as TokenSeq]];
}

interface Marker {
  masked(text: string): string;
}

function marker(color: boolean): Marker {
  return color ? { masked: (t) => `\x1b[2;100m${t}\x1b[0m` } : { masked: (t) => `⟦${t}⟧` };
}

/** The sequence decoded span by span; spans whose labels are ignored are marked. */
export function render(tokenizer: Tokenizer, seq: TokenSeq, mark: Marker): string {
  let out = "";
  let start = 0;
  const isMasked = (i: number) => seq.labels[i] === IGNORE_INDEX;
  for (let i = 1; i <= seq.inputIds.length; i++) {
    if (i < seq.inputIds.length && isMasked(i) === isMasked(start)) continue;
    const text = tokenizer.decode(seq.inputIds.slice(start, i));
    out += isMasked(start) ? mark.masked(text) : text;
    start = i;
  }
  return out;
}

const fmt = (n: number) => n.toLocaleString("en-US");
