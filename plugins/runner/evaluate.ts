// `eval [format "source"]`: the mean loss (and perplexity) of the model on a source, or on the part
// of the training data the last train block held out; with metrics, also generated answers scored
// against the references. After a train block the evaluation is recorded on that run in the run store; an
// eval-only recipe's evaluation is recorded as a run of its own.
import { basename } from "node:path";
import { err, ok, type Result } from "neverthrow";
import type { EvalAction } from "../../core/index.ts";
import {
  type Batch,
  type ChatEncoder,
  type DataKind,
  evalLoss,
  fileType,
  type LossFn,
  type RunnableStage,
  runnableStage,
  type TokenSeq,
} from "../../core/index.ts";
import { collatorFor, prepare, sequences } from "./data.ts";
import { fail, messageOf, type RunFailure } from "./failure.ts";
import { count, loss, plural, seconds } from "./format.ts";
import { recipePath, shown } from "./paths.ts";
import { formatScores, predictSamples, scoreMetrics } from "./predict.ts";
import { samplingOf } from "./sampling.ts";
import { type ActionEnd, type Scope, say, warn } from "./scope.ts";
import { recordActionRun, recordOnRun } from "./store.ts";
import { fixedBatches } from "./train-batches.ts";

interface EvalSet {
  readonly label: string;
  readonly samples: readonly unknown[];
  readonly kind: DataKind;
  readonly stage: RunnableStage;
  readonly stageOptions: Readonly<Record<string, unknown>>;
  readonly collate: (samples: readonly unknown[]) => Batch;
  readonly encoder: ChatEncoder;
}

/** The first registered stage that trains on this data kind (pt for text, sft for chat data). */
function stageFor(scope: Scope, kind: DataKind): Result<RunnableStage, RunFailure> {
  for (const entry of scope.registry.list("stages")) {
    const stage = runnableStage(entry);
    if (stage.isOk() && stage.value.dataKind === kind) return ok(stage.value);
  }
  return fail(`no registered stage trains on ${kind} data, so there is no loss to evaluate it with`);
}

async function evalSet(action: EvalAction, scope: Scope): Promise<Result<EvalSet, RunFailure>> {
  const { recipe, state, io } = scope;
  const last = state.lastRun;
  if (action.source === undefined) {
    if (last === undefined)
      return fail(
        'eval without a source evaluates the part of the training data a train block held out, and nothing was trained yet: give eval a source (eval alpaca "data/val.json") or train with holdout = 10% first',
      );
    if (last.heldOut.length === 0)
      return fail(
        `eval without a source evaluates the held-out part of the training data, and the last train block held out none: set holdout = 10% in it, or give eval a source (eval alpaca "data/val.json")`,
      );
    return ok({
      label: "held-out data",
      samples: last.heldOut,
      kind: last.kind,
      stage: last.stage,
      stageOptions: last.stageOptions,
      collate: last.collate,
      encoder: last.encoder,
    });
  }
  const isText = action.format === "text" || (action.format === undefined && fileType(recipePath(recipe, action.source)) === "text");
  const kind: DataKind = isText ? "pt" : (last?.kind ?? "sft");
  const stage = last !== undefined && last.kind === kind ? ok(last.stage) : stageFor(scope, kind);
  if (stage.isErr()) return err(stage.error);
  const data = await prepare(scope, [{ ...(action.format === undefined ? {} : { format: action.format }), source: action.source, options: action.options }], {
    processor: stage.value.processor,
    cutoff: last?.cutoff ?? 1024,
    pack: false,
    holdout: 0,
    seed: 42,
    quiet: true,
  });
  if (data.isErr()) return err(data.error);
  const collate = collatorFor(kind, data.value.encoder.padId);
  if (collate.isErr()) return err(collate.error);
  return ok({
    label: shown(recipePath(recipe, action.source), io.cwd),
    samples: data.value.train,
    kind,
    stage: stage.value,
    stageOptions: last?.kind === kind ? last.stageOptions : {},
    collate: collate.value,
    encoder: data.value.encoder,
  });
}

export async function evalAction(action: EvalAction, scope: Scope): Promise<Result<ActionEnd, RunFailure>> {
  const { io, state } = scope;
  const t0 = performance.now();
  const startedAt = Date.now();
  const set = await evalSet(action, scope);
  if (set.isErr()) return err(set.error);
  const { stage, stageOptions, collate } = set.value;
  const maxSamples = action.options.max_samples;
  const samples = typeof maxSamples === "number" ? set.value.samples.slice(0, maxSamples) : set.value.samples;
  const batch = Number(action.options.batch ?? 1);
  const batches = fixedBatches(samples, collate, batch);
  const applied = state.method?.applied;
  if (applied !== undefined) applied.training = false;
  const lossFn: LossFn<Batch> = (b, ctx) => {
    applied?.beginForward(ctx.rng);
    return stage.loss(state.model, b, stageOptions, { step: 0, micro: ctx.micro });
  };
  let mean: number;
  try {
    mean = evalLoss(batches, lossFn).loss;
  } catch (e) {
    return fail(`eval ${set.value.label}: ${messageOf(e)}`);
  }
  const tokens = samples.flatMap(sequences).reduce((a, q) => a + q.inputIds.length, 0);

  const metrics = (action.options.metrics as string[] | undefined) ?? [];
  let scored = "";
  let interrupted = false;
  let scores: Record<string, number> = {};
  if (metrics.length > 0) {
    if (set.value.kind !== "sft")
      return fail(`eval metrics compare generated answers with references, which ${set.value.kind} data does not have; drop metrics or evaluate chat data`);
    const predicted = predictSamples(scope, samples as TokenSeq[], set.value.encoder, samplingOf({ temperature: 0 }, 42), batch);
    if (predicted.isErr()) return err(predicted.error);
    interrupted = predicted.value.interrupted;
    const s = scoreMetrics(scope, metrics, predicted.value.predictions);
    if (s.isErr()) return err(s.error);
    scores = s.value;
    scored = `; ${formatScores(scores)}`;
  }
  say(
    io,
    `eval ${set.value.label}: loss ${loss(mean)}, perplexity ${Math.exp(mean).toFixed(3)} over ${plural(samples.length, "sample")} (${count(tokens)} tokens) in ${seconds(performance.now() - t0)}${scored}`,
  );

  // After a train block the evaluation is recorded on that run (held-out data as eval/holdout/*, a
  // source as eval/<file name>/*); an eval-only recipe's evaluation is a run of its own.
  const values = { loss: mean, perplexity: Math.exp(mean), ...scores };
  const last = state.lastRun;
  const split = action.source === undefined ? "holdout" : basename(action.source).replace(/\.[^.]*$/, "");
  const recorded =
    last !== undefined
      ? recordOnRun(io.cwd, last.runId, last.step, Object.fromEntries(Object.entries(values).map(([k, v]) => [`eval/${split}/${k}`, v])))
      : recordActionRun({
          kind: "eval",
          recipe: scope.recipe,
          cwd: io.cwd,
          ...(action.source === undefined ? {} : { source: action.source }),
          metrics: Object.fromEntries(Object.entries(values).map(([k, v]) => [`eval/${k}`, v])),
          interrupted,
          startedAt,
        });
  if (recorded.isErr()) warn(io, `eval: not recorded: ${recorded.error.message}`);
  return ok(interrupted ? "interrupted" : "done");
}
