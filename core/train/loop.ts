// train(): the one generic loop every stage hands its loss and batches to (mlx-lm's trainer takes
// functions, not subclasses). Per step: schedule → micro-batches → backward → guard → clip → update,
// inside one tidy() scope; then events, evaluation and checkpoints. Resumes from the newest complete
// checkpoint and then reproduces the uninterrupted run's losses exactly.
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { noGrad } from "../autograd/tape.ts";
import type { Backend } from "../backend/backend.ts";
import type { Collectives } from "../dist/collectives.ts";
import { broadcastParams, type GradientSync, gradientSync } from "../dist/gradient-sync.ts";
import { shardBatches } from "../dist/shard.ts";
import { buildGroups, type GroupRule, type NoDecay } from "../optim/groups.ts";
import type { OptimizerFactory } from "../optim/optimizer.ts";
import { tensor } from "../tensor/create.ts";
import { tidy } from "../tensor/scope.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { ResumableBatches } from "./batches.ts";
import { type BestSpec, updateBest } from "./best.ts";
import { verifyCheckpoint } from "./checkpoint-manifest.ts";
import { TrainError } from "./errors.ts";
import { type HookHost, RunEvents, type RunHandlers } from "./events.ts";
import { type ProgressOptions, progressHandlers } from "./progress.ts";
import { checkpointContents, loadCheckpointWeights, type RunParts, restoreCheckpoint } from "./resume.ts";
import { TrainRng } from "./rng.ts";
import { latestIntactCheckpoint, listCheckpoints, pruneCheckpoints, removeStaleTemps, saveCheckpoint } from "./run-checkpoint.ts";
import { makeSchedule, type ScheduleSpec } from "./schedule.ts";
import { type LossFn, runStep, type StepOutcome } from "./step.ts";
import { freshState, type TrainerState } from "./trainer-state.ts";

export interface EvalOutput {
  /** Mean loss over the evaluation set; perplexity is reported as exp(loss). */
  readonly loss: number;
  readonly metrics?: Readonly<Record<string, number>>;
}

export interface EvalSpec {
  /** Evaluate after every this many steps (0: only at the end). */
  readonly every: number;
  /** Runs without gradients inside a scope; see evalLoss for the usual one. */
  readonly fn: (ctx: { step: number }) => EvalOutput;
  readonly split?: string;
  /** Also evaluate after the last step (default true). */
  readonly atEnd?: boolean;
}

export interface CheckpointSpec {
  /** The run's output folder; checkpoints go to <dir>/checkpoint-<step>. */
  readonly dir: string;
  /** Save after every this many steps (0: only at the end); always at the end and on interruption. */
  readonly every: number;
  /** Newest checkpoints kept, plus the best one when best.loadAtEnd (default 3; 0 keeps all). */
  readonly keep?: number;
  /** Continue from the newest complete checkpoint in dir when there is one (default true). */
  readonly resume?: boolean;
}

export interface TrainOptions<B> {
  /** Default: the resumed checkpoint's, or a new one. */
  readonly runId?: string;
  readonly recipe?: string;
  /** Trainable parameters by name (names are checkpoint keys and what group rules match). */
  readonly params: Readonly<Record<string, Tensor>>;
  /**
   * Builds the optimizer over the parameter groups train() makes; the loop knows no optimizer by
   * name (the runner builds one from the registry's entry, code calls a plugin's factory).
   */
  readonly optimizer: OptimizerFactory;
  /** Weight decay of every group a rule or the no-decay test does not change (default 0). */
  readonly weightDecay?: number;
  /** Groups with their own lr multiplier or weight decay; first match wins. */
  readonly groups?: readonly GroupRule[];
  /** Which parameters get no weight decay (default: norms, biases, any 1-D tensor). */
  readonly noDecay?: NoDecay;
  /** Default constant, no warmup. */
  readonly schedule?: ScheduleSpec;
  /** Optimizer steps in the whole run. */
  readonly steps: number;
  readonly batches: ResumableBatches<B>;
  readonly lossFn: LossFn<B>;
  /** Micro-batches per optimizer step (default 1). */
  readonly accumulation?: number;
  /** Global gradient-norm clipping threshold (default: off). */
  readonly clipNorm?: number;
  /** Stop after this many consecutive steps with a NaN/Inf loss or gradient (default 5). */
  readonly maxBadSteps?: number;
  readonly eval?: EvalSpec;
  /** Best checkpoint by an eval metric, loading it at the end, early stopping (default: lowest eval_loss, tracked only). */
  readonly best?: BestSpec;
  readonly checkpoint?: CheckpointSpec;
  /** Seed of the run's random stream (dropout); default 0. */
  readonly seed?: number | bigint;
  /** A registry: its onRunStart/onStep/onEval/onSave/onRunEnd hooks receive the events. */
  readonly hooks?: HookHost;
  /** Further event handlers (run store, board), called after the registry's hooks. */
  readonly handlers?: readonly RunHandlers[];
  /** The stderr progress bar (default on); false turns it off. */
  readonly progress?: ProgressOptions | false;
  /** Aborting stops the run after the current step (checkpointed, status "interrupted"). */
  readonly signal?: AbortSignal;
  /** Where notes go (a damaged checkpoint passed over, stale temp folders removed); default stderr. */
  readonly warn?: (message: string) => void;
  /**
   * Data parallelism: the job's communicator (default: one rank). With more than one rank each reads
   * its shard of `batches`, gradients are averaged over ranks in buckets that overlap backward, and
   * rank 0 alone writes checkpoints and reports events; a failure on any rank aborts the whole job.
   */
  readonly collectives?: Collectives;
  /** Gradient bucket size for data parallelism (default 25 MiB). */
  readonly bucketBytes?: number;
}

export interface TrainResult {
  readonly runId: string;
  readonly status: "completed" | "interrupted";
  /** Last completed step. */
  readonly step: number;
  /** Loss of every step from 1 (NaN where the guard skipped), including steps before a resume. */
  readonly losses: readonly number[];
  readonly skippedSteps: number;
  readonly resumedFromStep?: number;
  /** The batches ran out before `steps`. */
  readonly dataExhausted: boolean;
  readonly lastCheckpoint?: string;
  readonly best: TrainerState["best"];
  /** Why the run stopped before its last step (early stopping). */
  readonly stopReason?: string;
  /** The step whose checkpoint's weights the parameters hold at the end (load_best_model_at_end). */
  readonly loadedBestStep?: number;
}

/** The error for an update that left NaN/±Inf weights: the step, the tensor, and what to change. */
function nonFiniteWeights(step: number, lr: number, out: StepOutcome, lastCheckpoint: string | undefined): TrainError {
  const bad = out.nonFinite!;
  const kept = lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint}` : "no checkpoint was written";
  const msg = `step ${step}: the optimizer update left ${bad.count} NaN/Inf value(s) in "${bad.name}" (loss ${out.loss} and gradient norm ${out.gradNorm} were finite; the update was not). The run stopped without saving these weights; ${kept}. Lower the learning rate (lr; this step's was ${lr})`;
  return new TrainError("non-finite", msg, step - 1);
}

/** The error for a run whose last step(s) had a NaN/Inf loss or gradient. */
function endedNonFinite(state: TrainerState): TrainError {
  const from = state.step - state.consecutiveSkipped + 1;
  const last = state.lossHistory[state.lossHistory.length - 1];
  const msg = `the run ended with ${state.consecutiveSkipped} step(s) whose loss or gradient was NaN/Inf (steps ${from}-${state.step}; last loss ${last?.loss}, grad norm ${last?.gradNorm}); parameters were not updated on those steps, so the run did not complete. Check the model's weights for NaN/Inf, lower the learning rate, or set clip`;
  return new TrainError("non-finite", msg, state.step);
}

function newRunId(): string {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${d}-${process.pid}`;
}

function checkOptions<B>(o: TrainOptions<B>): string | null {
  const posInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  const nonNegInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (!posInt(o.steps)) return `steps must be a positive integer, found ${o.steps}`;
  if (!Number.isSafeInteger(o.steps)) return `steps must be at most 2^53 - 1, found ${o.steps}`;
  if (o.accumulation !== undefined && !posInt(o.accumulation)) return `accumulation must be a positive integer, found ${o.accumulation}`;
  if (o.clipNorm !== undefined && !(o.clipNorm >= 0 && Number.isFinite(o.clipNorm)))
    return `clipNorm must be a finite number >= 0 (0 = off), found ${o.clipNorm}`;
  if (o.maxBadSteps !== undefined && !posInt(o.maxBadSteps)) return `maxBadSteps must be a positive integer, found ${o.maxBadSteps}`;
  if (o.eval && !nonNegInt(o.eval.every)) return `eval.every must be an integer >= 0, found ${o.eval.every}`;
  if (o.checkpoint && !nonNegInt(o.checkpoint.every)) return `checkpoint.every must be an integer >= 0, found ${o.checkpoint.every}`;
  if (o.checkpoint?.keep !== undefined && !nonNegInt(o.checkpoint.keep))
    return `checkpoint.keep must be an integer >= 0 (0: keep all), found ${o.checkpoint.keep}`;
  if (o.best?.patience !== undefined && !nonNegInt(o.best.patience)) return `best.patience must be an integer >= 0, found ${o.best.patience}`;
  if (o.best?.loadAtEnd && !o.checkpoint) return "best.loadAtEnd needs checkpoints (set checkpoint)";
  if ((o.best?.loadAtEnd || o.best?.patience) && !o.eval) return "best.loadAtEnd and best.patience need an evaluation (set eval)";
  if (typeof o.optimizer !== "function")
    return "optimizer must be a factory (groups, ctx) => Result<Optimizer, Error>, e.g. adamw({ lr }) from the optimizers plugin";
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0 && Number.isFinite(o.weightDecay)))
    return `weightDecay must be a finite number >= 0, found ${o.weightDecay}`;
  if (typeof o.lossFn !== "function") return "lossFn must be a function (batch, ctx) => { loss, tokens }";
  if (typeof o.batches?.next !== "function" || typeof o.batches.state !== "function" || typeof o.batches.restore !== "function")
    return "batches must implement next(), state() and restore()";
  return null;
}

export async function train<B>(o: TrainOptions<B>): Promise<Result<TrainResult, TrainError>> {
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;
  const problem = checkOptions(o);
  if (problem) return err(new TrainError("options", `train: ${problem}`));

  // Parameters, groups, optimizer, schedule.
  const groups = buildGroups(o.params, { weightDecay: o.weightDecay ?? 0, noDecay: o.noDecay, rules: o.groups });
  if (groups.isErr()) return err(new TrainError("options", groups.error.message));
  const made = o.optimizer(groups.value, { totalSteps: o.steps, accumulation: o.accumulation ?? 1, clipNorm: o.clipNorm ?? 0 });
  if (made.isErr()) return err(new TrainError("options", made.error.message));
  const optimizer = made.value;
  const dist = o.collectives && o.collectives.size > 1 ? o.collectives : null;
  const lead = (o.collectives?.rank ?? 0) === 0;
  const batches = dist ? shardBatches(o.batches, dist.rank, dist.size) : o.batches;
  let sync: GradientSync | null = null;
  if (dist && optimizer.stepsDuringBackward) {
    optimizer.dispose();
    return err(
      new TrainError(
        "options",
        `train: the ${optimizer.kind} optimizer steps each tensor during backward (layerwise), before ${dist.size} ranks can average its gradient; turn layerwise off to train data-parallel`,
      ),
    );
  }
  try {
    const names = optimizer.groups.flatMap((g) => g.names);
    const schedule = makeSchedule(o.schedule ?? { kind: "constant" }, optimizer.lr, o.steps);
    if (schedule.isErr()) return err(new TrainError("options", schedule.error.message));
    let rng = new TrainRng(BigInt(o.seed ?? 0));
    const parts = (): RunParts<B> => ({ names, params: optimizer.params, optimizer, schedule: schedule.value, rng, batches });

    // Resume from the newest complete checkpoint, if asked and present.
    let state: TrainerState = freshState(o.runId ?? newRunId(), o.steps, names);
    let resumedFromStep: number | undefined;
    let lastCheckpoint: string | undefined;
    const ck = o.checkpoint;
    const warnAny = o.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
    const warn = lead ? warnAny : () => {};
    // Rank 0's runner may have just cleared old checkpoints: no rank looks before it is done.
    if (dist) {
      const met = dist.barrier();
      if (met.isErr()) dist.abort(`before training: ${met.error.message}`);
    }
    if (ck && lead)
      for (const name of removeStaleTemps(ck.dir)) warn(`removed ${name} in ${ck.dir}, left by a save that was killed; the checkpoints are intact`);
    if (ck && (ck.resume ?? true)) {
      const found = latestIntactCheckpoint(ck.dir);
      const latest = found.ref;
      for (const d of found.damaged) {
        const instead = latest ? `resuming from ${latest.path} instead` : "no intact checkpoint is left";
        warn(`${d.path} is damaged (${d.problem}); ${instead}`);
      }
      if (!latest && found.damaged.length > 0) {
        const what = found.damaged.map((d) => `cannot resume from ${d.path}: ${d.problem}`).join("; ");
        const msg = `${what}; no intact checkpoint is left in ${ck.dir}. Remove the damaged checkpoint folders to start over, or set resume = false`;
        return err(new TrainError("checkpoint", msg));
      }
      if (latest && found.legacy) warn(`${latest.path} has no manifest (written by an older lft); resuming without checking its files' hashes`);
      if (latest) {
        const r = restoreCheckpoint(latest.path, parts());
        if (r.isErr()) return err(r.error);
        state = r.value.state;
        rng = r.value.rng;
        if (o.runId) state.runId = o.runId;
        resumedFromStep = state.step;
        lastCheckpoint = latest.path;
      }
    }
    const runId = state.runId;
    // Only rank 0 reports: progress, the run store, the registry's hooks.
    const events = lead
      ? new RunEvents(o.hooks, [...(o.progress === false ? [] : [progressHandlers(o.progress)]), ...(o.handlers ?? [])])
      : new RunEvents(undefined, []);
    const fail = async (e: TrainError): Promise<Result<TrainResult, TrainError>> => {
      // The run's end is reported even when a hook is what failed; a second failure does not mask the first.
      await events.sequential("onRunEnd", { runId, status: "failed", step: state.step, elapsedMs: elapsed(), error: e }, state.step);
      // The other ranks would wait forever in their next collective: end the job (the last checkpoint resumes).
      if (dist) dist.abort(`${e.message}${lastCheckpoint ? `; the last checkpoint is ${lastCheckpoint}` : ""}`);
      return err(e);
    };
    if (dist) {
      // Every rank starts from rank 0's weights, then averages gradients in buckets during backward.
      const same = broadcastParams(dist, optimizer.params);
      if (same.isErr()) return fail(new TrainError("step", same.error.message, state.step, { cause: same.error }));
      sync = gradientSync(dist, optimizer.params, o.bucketBytes);
    }
    const started = await events.sequential("onRunStart", { runId, recipe: o.recipe, startedAt: Date.now(), totalSteps: o.steps, resumedFromStep }, state.step);
    if (started.isErr()) return fail(started.error);

    const save = async (): Promise<Result<void, TrainError>> => {
      if (dist) {
        // A sharded optimizer (ZeRO-1) gathers its state on every rank, so rank 0 can write all of it.
        optimizer.gatherState?.();
        // Rank 0 writes; the others wait until the checkpoint is complete, so any rank may read it next.
        const written = lead ? await saveOnce() : ok(undefined);
        if (written.isErr()) return written;
        if (!lead) lastCheckpoint = join(ck!.dir, `checkpoint-${state.step}`);
        const met = dist.barrier();
        return met.isErr() ? err(new TrainError("checkpoint", `after saving step ${state.step}: ${met.error.message}`, state.step)) : ok(undefined);
      }
      return saveOnce();
    };
    const saveOnce = async (): Promise<Result<void, TrainError>> => {
      const saved = saveCheckpoint(ck!.dir, state.step, checkpointContents(parts(), state));
      if (saved.isErr()) return err(new TrainError("checkpoint", saved.error.message, state.step, { cause: saved.error }));
      lastCheckpoint = saved.value.path;
      pruneCheckpoints(ck!.dir, ck!.keep ?? 3, o.best?.loadAtEnd && state.best ? [state.best.step] : []);
      return events.sequential("onSave", { runId, step: state.step, path: saved.value.path, kind: "checkpoint" }, state.step);
    };
    // The outcome of the latest evaluation for the best tracker: a new best is checkpointed when loadAtEnd asks.
    let improved = false;
    const evaluate = async (): Promise<Result<void, TrainError>> => {
      const ev = o.eval!;
      let out: EvalOutput;
      try {
        out = noGrad(() => tidy(() => ev.fn({ step: state.step })));
      } catch (e) {
        return err(new TrainError("step", `evaluation after step ${state.step} failed: ${(e as Error).message}`, state.step, { cause: e }));
      }
      const metrics = { loss: out.loss, perplexity: Math.exp(out.loss), ...out.metrics };
      const split = ev.split ?? "validation";
      state.evalHistory.push({ step: state.step, split, metrics });
      const u = updateBest(state, o.best, state.step, metrics);
      if (u.kind === "missing") return err(new TrainError("options", `train: ${u.message}`, state.step));
      improved = u.kind === "improved";
      if (u.kind === "stop") state.stopReason = u.reason;
      return events.parallel("onEval", { runId, step: state.step, split, metrics, elapsedMs: elapsed() }, state.step);
    };

    const accumulation = o.accumulation ?? 1;
    const maxBad = o.maxBadSteps ?? 5;
    let status: TrainResult["status"] = "completed";
    let dataExhausted = false;
    let lastSaved = resumedFromStep ?? -1;
    let lastEval = -1;
    // A run resumed from a checkpoint written when it stopped early stays stopped.
    while (state.step < o.steps && state.stopReason === null) {
      // A step is synchronous native work; yield to the event loop once per step so a signal handler
      // (Ctrl-C, SIGTERM) or a board's request can run and abort before the next one.
      if (o.signal) await new Promise<void>((resolve) => setImmediate(resolve));
      // Every rank takes part in the vote each step, aborted or not.
      const aborted = dist ? anyRankAborted(dist, o.signal?.aborted === true, optimizer.params[0]?.backend) : o.signal?.aborted === true;
      if (aborted) {
        status = "interrupted";
        break;
      }
      const step = state.step + 1;
      const lr = schedule.value.lrAt(state.step);
      let out: StepOutcome;
      try {
        out = runStep({ step, lr, optimizer, batches, lossFn: o.lossFn, accumulation, clipNorm: o.clipNorm, rng, ...(sync ? { sync } : {}) });
      } catch (e) {
        return fail(new TrainError("step", `step ${step} failed: ${(e as Error).message}`, state.step, { cause: e }));
      }
      if (out.micro === 0) {
        dataExhausted = true;
        break;
      }
      // Weights that are no longer numbers end the run before anything saves them.
      if (out.nonFinite) return fail(nonFiniteWeights(step, lr, out, lastCheckpoint));
      state.step = step;
      state.tokensSeen += out.tokens;
      state.epoch = batches.epoch?.() ?? null;
      state.skippedSteps += out.skipped ? 1 : 0;
      state.consecutiveSkipped = out.skipped ? state.consecutiveSkipped + 1 : 0;
      const metrics = out.metrics ? { metrics: out.metrics } : {};
      state.lossHistory.push({ step, loss: out.loss, lr, tokens: out.tokens, gradNorm: out.gradNorm, skipped: out.skipped, ...metrics });
      const stepped = await events.parallel(
        "onStep",
        { runId, step, epoch: state.epoch ?? undefined, loss: out.loss, lr, tokens: out.tokens, elapsedMs: elapsed(), gradNorm: out.gradNorm, ...metrics },
        step,
      );
      if (stepped.isErr()) return fail(stepped.error);
      if (state.consecutiveSkipped >= maxBad) {
        const msg = `stopped after ${state.consecutiveSkipped} consecutive steps with a non-finite loss or gradient (steps ${step - state.consecutiveSkipped + 1}-${step}; last loss ${out.loss}, grad norm ${out.gradNorm}); parameters were not updated on those steps. Lower the learning rate (lr), clip gradients (clip in the train block), or look for bad rows in the batches of those steps`;
        return fail(new TrainError("non-finite", msg, step));
      }
      if (out.exhausted) dataExhausted = true;
      const last = step === o.steps || dataExhausted;
      // However few such steps: a run whose last loss or gradient was NaN/Inf never reports "completed".
      if (last && out.skipped) return fail(endedNonFinite(state));
      if (o.eval && ((o.eval.every > 0 && step % o.eval.every === 0) || (last && (o.eval.atEnd ?? true)))) {
        const r = await evaluate();
        if (r.isErr()) return fail(r.error);
        lastEval = step;
      }
      const stopping = state.stopReason !== null;
      const keepBest = improved && lastEval === step && o.best?.loadAtEnd === true;
      if (ck && ((ck.every > 0 && step % ck.every === 0) || last || stopping || keepBest)) {
        const r = await save();
        if (r.isErr()) return fail(r.error);
        lastSaved = step;
      }
      if (dataExhausted || stopping) break;
    }
    // A run whose last step's loss or gradient was NaN/Inf did not complete (data that ran out at a step boundary).
    if (status === "completed" && state.consecutiveSkipped > 0) return fail(endedNonFinite(state));
    // Data that ran out exactly at a step boundary ends the loop before its last-step evaluation.
    if (o.eval && (o.eval.atEnd ?? true) && status === "completed" && state.step > 0 && lastEval !== state.step && resumedFromStep !== state.step) {
      const r = await evaluate();
      if (r.isErr()) return fail(r.error);
    }
    // An interrupted run keeps what it did: save unless the last step was just saved.
    if (ck && state.step > 0 && lastSaved !== state.step) {
      const r = await save();
      if (r.isErr()) return fail(r.error);
    }
    // load_best_model_at_end: the parameters leave the run holding the best checkpoint's weights.
    let loadedBestStep: number | undefined;
    if (ck && o.best?.loadAtEnd && state.best && state.best.step !== state.step) {
      const at = listCheckpoints(ck.dir).find((c) => c.step === state.best!.step);
      if (!at) return fail(new TrainError("checkpoint", `the best checkpoint (step ${state.best.step}) is missing from ${ck.dir}`, state.step));
      const verdict = verifyCheckpoint(at.path, at.step);
      if (!verdict.ok)
        return fail(new TrainError("checkpoint", `the best checkpoint ${at.path} is damaged (${verdict.problem}); its weights were not loaded`, state.step));
      const loaded = loadCheckpointWeights(at.path, parts());
      if (loaded.isErr()) return fail(loaded.error);
    }
    if (ck && o.best?.loadAtEnd && state.best) loadedBestStep = state.best.step;
    const stopReason = state.stopReason === null ? {} : { stopReason: state.stopReason };
    const ended = await events.sequential("onRunEnd", { runId, status, step: state.step, elapsedMs: elapsed(), ...stopReason }, state.step);
    if (ended.isErr()) return err(ended.error);
    return ok({
      runId,
      status,
      step: state.step,
      losses: state.lossHistory.map((r) => r.loss),
      skippedSteps: state.skippedSteps,
      resumedFromStep,
      dataExhausted,
      lastCheckpoint,
      best: state.best,
      ...(state.stopReason === null ? {} : { stopReason: state.stopReason }),
      ...(loadedBestStep === undefined ? {} : { loadedBestStep }),
    });
  } finally {
    sync?.dispose();
    optimizer.dispose();
  }
}

/** Whether a signal reached any rank (mpirun forwards signals, but ranks see them at different steps). */
function anyRankAborted(dist: Collectives, here: boolean, backend: Backend | undefined): boolean {
  const flag = tensor([here ? 1 : 0], [1], backend ? { backend } : {});
  try {
    const r = dist.allReduce(flag, "sum");
    if (r.isErr()) dist.abort(`agreeing whether to stop: ${r.error.message}`);
    return flag.item() > 0;
  } finally {
    flag.dispose();
  }
}
