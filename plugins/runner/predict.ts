// `predict <format> "<source>"`: every prompt of a source answered by the model, written as JSONL
// lines {prompt, predict, label} (LLaMA-Factory's generated_predictions.jsonl), and scored with the
// metrics asked for (bleu-4, rouge-1/2/l, exact_match), which are printed and written beside it to
// predict_results.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import type { PredictAction } from "../../core/index.ts";
import { type ChatEncoder, IGNORE_INDEX, type TokenSeq, validateOptions } from "../../core/index.ts";
import { supervisedProcessor } from "../stages/index.ts";
import { prepare } from "./data.ts";
import { fail, type RunFailure } from "./failure.ts";
import { count, plural, seconds } from "./format.ts";
import { defaultRunDir, recipePath, shown } from "./paths.ts";
import { describeSampling, generateFor, type Sampling, samplingOf } from "./sampling.ts";
import { type ActionEnd, type Scope, say, warn } from "./scope.ts";
import { recordActionRun, recordOnRun } from "./store.ts";

export interface Prediction {
  readonly prompt: string;
  readonly predict: string;
  readonly label: string;
}

/** A supervised sample's prompt (everything before the first learned token) and its label ids. */
export function promptAndLabel(seq: TokenSeq): { prompt: number[]; label: number[] } {
  const first = seq.labels.findIndex((l) => l !== IGNORE_INDEX);
  if (first < 0) return { prompt: [...seq.inputIds], label: [] };
  return { prompt: seq.inputIds.slice(0, first), label: seq.labels.slice(first).filter((l) => l !== IGNORE_INDEX) };
}

/** The reply the label holds: up to its first stop token (the template's separator after it is not part of it). */
function replyIds(label: readonly number[], stops: ReadonlySet<number>): number[] {
  const end = label.findIndex((id) => stops.has(id));
  return end < 0 ? [...label] : label.slice(0, end);
}

/** Generates an answer for each sample's prompt, `batch` prompts at a time; stops early when aborted. */
export function predictSamples(
  scope: Scope,
  samples: readonly TokenSeq[],
  encoder: ChatEncoder,
  sampling: Sampling,
  batch: number,
): Result<{ predictions: Prediction[]; generated: number; interrupted: boolean }, RunFailure> {
  const { tokenizer } = scope.state;
  const stops = new Set(encoder.stopIds);
  const predictions: Prediction[] = [];
  let generated = 0;
  for (let i = 0; i < samples.length; i += batch) {
    if (scope.signal.aborted) return ok({ predictions, generated, interrupted: true });
    const parts = samples.slice(i, i + batch).map(promptAndLabel);
    const empty = parts.findIndex((p) => p.prompt.length === 0);
    if (empty >= 0) return fail(`sample ${i + empty + 1} has an empty prompt (the template put nothing before the response)`);
    const result = generateFor(
      scope.state,
      parts.map((p) => p.prompt),
      { stopIds: encoder.stopIds, stopStrings: encoder.stopWords, padId: encoder.padId },
      sampling,
    );
    if (result.isErr()) return err(result.error);
    parts.forEach((p, j) => {
      generated += result.value.tokens[j]!.length;
      predictions.push({
        prompt: tokenizer.decode(p.prompt, { skipSpecialTokens: false }),
        predict: result.value.texts?.[j] ?? "",
        label: tokenizer.decode(replyIds(p.label, stops), { skipSpecialTokens: true, cleanUpTokenizationSpaces: false }),
      });
    });
  }
  return ok({ predictions, generated, interrupted: false });
}

/** Each named metric over the predictions, in the order asked. */
export function scoreMetrics(scope: Scope, names: readonly string[], predictions: readonly Prediction[]): Result<Record<string, number>, RunFailure> {
  const scores: Record<string, number> = {};
  const input = { predictions: predictions.map((p) => p.predict), references: predictions.map((p) => p.label) };
  for (const name of names) {
    const entry = scope.registry.get("metrics", name);
    if (entry.isErr()) return fail(`metric ${name}: ${entry.error.message}`);
    const options = validateOptions(entry.value.options ?? {}, {}, `metric "${name}"`);
    if (options.isErr()) return fail(options.error.map((e) => e.message).join("; "));
    scores[name] = entry.value.compute(input, options.value) * (entry.value.scale ?? 1);
  }
  return ok(scores);
}

export function formatScores(scores: Readonly<Record<string, number>>): string {
  return Object.entries(scores)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(", ");
}

export async function predictAction(action: PredictAction, scope: Scope): Promise<Result<ActionEnd, RunFailure>> {
  const { recipe, io, state } = scope;
  const o = action.options;
  const t0 = performance.now();
  const startedAt = Date.now();
  const data = await prepare(scope, [{ ...(action.format === undefined ? {} : { format: action.format }), source: action.source, options: action.options }], {
    // Prompts are encoded as the sft stage encodes them; generation starts after the last one.
    processor: supervisedProcessor,
    cutoff: state.spec.rope.maxPositionEmbeddings,
    pack: false,
    holdout: 0,
    seed: 42,
    maskHistory: true,
    quiet: true,
  });
  if (data.isErr()) return err(data.error);
  const samples = data.value.train as TokenSeq[];
  const sampling = samplingOf(o, 42);
  const predicted = predictSamples(scope, samples, data.value.encoder, sampling, Number(o.batch ?? 1));
  if (predicted.isErr()) return err(predicted.error);
  const { predictions, generated, interrupted } = predicted.value;

  const out = typeof o.output === "string" ? recipePath(recipe, o.output) : join(state.lastRun?.output ?? defaultRunDir(recipe), "generated_predictions.jsonl");
  const metrics = (o.metrics as string[] | undefined) ?? [];
  const scores = scoreMetrics(scope, metrics, predictions);
  if (scores.isErr()) return err(scores.error);
  const ms = performance.now() - t0;
  try {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, predictions.map((p) => `${JSON.stringify(p)}\n`).join(""));
    if (metrics.length > 0) {
      const results = {
        ...Object.fromEntries(Object.entries(scores.value).map(([k, v]) => [`predict_${k}`, v])),
        predict_samples: predictions.length,
        predict_runtime: ms / 1000,
      };
      writeFileSync(join(dirname(out), "predict_results.json"), `${JSON.stringify(results, null, 2)}\n`);
    }
  } catch (e) {
    return fail(`predict: cannot write ${shown(out, io.cwd)}: ${(e as Error).message}`);
  }
  const rate = ms > 0 ? (generated * 1000) / ms : 0;
  const scored = metrics.length > 0 ? `; ${formatScores(scores.value)}` : "";
  say(
    io,
    `predict ${action.source}: ${plural(predictions.length, "prompt")}${interrupted ? ` of ${samples.length} (interrupted)` : ""} answered (${describeSampling(sampling)}) in ${seconds(ms)}, ${count(rate)} tokens/s, written to ${shown(out, io.cwd)}${scored}`,
  );
  // After a train block the predictions are recorded on that run; a predict-only recipe's are a run of their own.
  const predictMetrics = { ...Object.fromEntries(Object.entries(scores.value).map(([k, v]) => [`predict/${k}`, v])), "predict/samples": predictions.length };
  const artifacts = [{ kind: "predictions", path: out }];
  const last = state.lastRun;
  const recorded =
    last !== undefined
      ? recordOnRun(io.cwd, last.runId, last.step, predictMetrics, artifacts)
      : recordActionRun({ kind: "predict", recipe, cwd: io.cwd, source: action.source, metrics: predictMetrics, artifacts, interrupted, startedAt });
  if (recorded.isErr()) warn(io, `predict: not recorded: ${recorded.error.message}`);
  return ok(interrupted ? "interrupted" : "done");
}
