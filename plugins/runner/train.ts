// `train <stage> for N epochs|steps { ... }`: the stage's samples from the data worker, batched and
// shuffled per epoch, handed with the stage's loss to core's one train() loop (schedule, AdamW,
// accumulation, clipping, evaluation on the held-out part, checkpoints, the run store). At the end
// the method's result (a PEFT adapter, or a whole checkpoint) is written to the run's output folder.
import { rmSync } from "node:fs";
import { err, ok, type Result } from "neverthrow";
import {
  evalLoss, listCheckpoints, runnableStage, shuffledBatches, storeHooks, train,
  type Batch, type LossFn, type OptimizerSpec, type ResumableBatches, type RunHandlers, type ScheduleSpec,
} from "../../core/index.ts";
import type { TrainAction } from "../../dsl/recipe.ts";
import { collatorFor, prepare } from "./data.ts";
import { copyTokenizerFiles } from "./export.ts";
import { fail, type RunFailure } from "./failure.ts";
import { count, loss, plural, seconds } from "./format.ts";
import { defaultRunDir, recipePath, shown } from "./paths.ts";
import { say, warn, type ActionEnd, type Scope } from "./scope.ts";
import { openStore, runInfo, storePath } from "./store.ts";

/** SGD's momentum when a recipe picks `optimizer = sgd` (the recipe has no knob for it). */
export const SGD_MOMENTUM = 0.9;

function optimizerSpec(name: string, lr: number, weightDecay: number): Result<OptimizerSpec, RunFailure> {
  if (name === "adamw") return ok({ kind: "adamw", lr, weightDecay });
  if (name === "sgd") return ok({ kind: "sgd", lr, momentum: SGD_MOMENTUM, weightDecay });
  return fail(`optimizer "${name}": the runner builds adamw and sgd; a plugin optimizer needs its own runner`);
}

/** Optimizer steps for the duration: epochs count whole passes of `accumulate` micro-batches. */
export function stepsFor(action: TrainAction, samples: number): number {
  if (action.duration.unit === "steps") return action.duration.amount;
  const batch = Number(action.options["batch"]);
  const accumulate = Number(action.options["accumulate"]);
  const perEpoch = Math.max(1, Math.floor(Math.ceil(samples / batch) / accumulate));
  return Math.max(1, Math.ceil(action.duration.amount * perEpoch));
}

export async function trainAction(action: TrainAction, scope: Scope): Promise<Result<ActionEnd, RunFailure>> {
  const { recipe, registry, io, state, signal } = scope;
  const o = action.options;
  const where = `train ${action.stage}`;
  const entry = registry.get("stages", action.stage);
  if (entry.isErr()) return fail(`${where}: ${entry.error.message}`);
  const stage = runnableStage(entry.value);
  if (stage.isErr()) return fail(`${where}: ${stage.error.message}`);
  const attached = state.method;
  if (attached === undefined) return fail(`${where}: no method is attached to the model; add a method block (method lora trains adapters, method full every weight)`);
  const applied = attached.applied;
  const stageOptions = Object.fromEntries(Object.keys(entry.value.options ?? {}).filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

  const kind = stage.value.dataKind;
  const data = await prepare(scope, recipe.datasets, {
    kind,
    cutoff: Number(o["cutoff"]),
    pack: o["pack"] === true,
    holdout: Number(o["holdout"]),
    seed: Number(o["seed"]),
    ...(typeof stageOptions["train_on_prompt"] === "boolean" ? { trainOnPrompt: stageOptions["train_on_prompt"] } : {}),
    ...(typeof stageOptions["mask_history"] === "boolean" ? { maskHistory: stageOptions["mask_history"] } : {}),
  });
  if (data.isErr()) return err(data.error);
  const samples = data.value.train;
  if (samples.length === 0) return fail(`${where}: every sample was held out (holdout = ${String(o["holdout"])} of ${data.value.eval.length}); lower holdout`);
  const collate = collatorFor(kind, data.value.encoder.padId);
  if (collate.isErr()) return fail(`${where}: ${collate.error.message}`);

  const batch = Number(o["batch"]);
  const steps = stepsFor(action, samples.length);
  const shuffled = shuffledBatches(samples as unknown[], { batchSize: batch, seed: Number(o["seed"]) });
  const batches: ResumableBatches<Batch> = {
    next: () => {
      const b = shuffled.next();
      return b === undefined ? undefined : collate.value(b);
    },
    state: () => shuffled.state(),
    restore: (s) => shuffled.restore(s),
    epoch: () => shuffled.epoch!(),
  };
  const warmup = Number(o["warmup"]);
  const schedule: ScheduleSpec = { kind: o["scheduler"] as ScheduleSpec["kind"], ...(action.units["warmup"] === "steps" ? { warmupSteps: Math.round(warmup) } : { warmupRatio: warmup }) };
  const optimizer = optimizerSpec(String(o["optimizer"]), Number(o["lr"]), Number(o["weight_decay"]));
  if (optimizer.isErr()) return err(optimizer.error);

  const output = typeof o["output"] === "string" ? recipePath(recipe, o["output"]) : defaultRunDir(recipe);
  const resume = o["resume"] === true;
  const old = listCheckpoints(output);
  if (!resume && old.length > 0) {
    for (const c of old) rmSync(c.path, { recursive: true, force: true });
    say(io, `${where}: removed ${plural(old.length, "earlier checkpoint")} from ${shown(output, io.cwd)} (resume = false starts over; resume = true continues from the newest)`);
  }

  const model = state.model;
  const lossFn: LossFn<Batch> = (b, ctx) => {
    applied.beginForward(ctx.rng);
    return stage.value.loss(model, b, stageOptions, { step: ctx.step, micro: ctx.micro });
  };
  const evalBatches: Batch[] = [];
  for (let i = 0; i < data.value.eval.length; i += batch) evalBatches.push(collate.value(data.value.eval.slice(i, i + batch)));
  const evaluate = () => {
    applied.training = false;
    try {
      return evalLoss(evalBatches, lossFn);
    } finally {
      applied.training = true;
    }
  };

  let tokens = 0;
  let elapsedMs = 0;
  const throughput: RunHandlers = { name: "runner-throughput", onStep: (e) => void ((tokens += e.tokens), (elapsedMs = e.elapsedMs)) };
  const handlers: RunHandlers[] = [throughput];
  const store = openStore(io.cwd);
  if (store.isErr()) warn(io, `${where}: the run is not recorded: ${store.error.message}`);
  else {
    const config = { model: recipe.model, datasets: recipe.datasets, method: recipe.method, stage: action.stage, duration: action.duration, train: o, steps };
    handlers.push(storeHooks(store.value, runInfo(recipe, io.cwd, `${recipe.file} · train ${action.stage}`, config)));
  }

  applied.training = true;
  model.gradientCheckpointing = o["checkpointing"] === true;
  let result;
  try {
    result = await train<Batch>({
      recipe: recipe.file,
      params: applied.params,
      optimizer: optimizer.value,
      groups: applied.groups,
      ...(applied.noDecay === undefined ? {} : { noDecay: applied.noDecay }),
      schedule,
      steps,
      batches,
      lossFn,
      accumulation: Number(o["accumulate"]),
      clipNorm: Number(o["clip"]),
      seed: Number(o["seed"]),
      ...(evalBatches.length > 0 ? { eval: { every: Number(o["eval_every"]), fn: evaluate, split: "holdout" } } : {}),
      checkpoint: { dir: output, every: Number(o["save_every"]), keep: 3, resume },
      hooks: registry,
      handlers,
      progress: { stream: { write: (s: string) => io.stderr(s), isTTY: Boolean(process.stderr.isTTY) }, every: Number(o["log_every"]) },
      signal,
    });
  } finally {
    applied.training = false;
    model.gradientCheckpointing = false;
    if (store.isOk()) store.value.close();
  }
  if (result.isErr()) return fail(`${where}: ${result.error.message}`);
  const r = result.value;
  const done = r.step - (r.resumedFromStep ?? 0);
  if (done > 0) state.history.push(`${action.stage} ${plural(r.step, "step")}`);
  state.lastRun = { runId: r.runId, output, stage: stage.value, stageOptions, kind, cutoff: Number(o["cutoff"]), heldOut: data.value.eval, collate: collate.value, encoder: data.value.encoder, step: r.step };

  const losses = r.losses.filter(Number.isFinite);
  const tail = losses.slice(-Math.min(10, losses.length));
  const mean = tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
  const rate = elapsedMs > 0 ? (tokens * 1000) / elapsedMs : Number.NaN;
  const epochs = (r.step * batch * Number(o["accumulate"])) / samples.length;
  const recorded = store.isOk() ? `; run ${r.runId} recorded in ${shown(storePath(io.cwd), io.cwd)}` : "";
  const checkpoint = r.lastCheckpoint === undefined ? "" : `; checkpoint ${shown(r.lastCheckpoint, io.cwd)}`;
  if (r.status === "interrupted") {
    say(io, `${where}: interrupted after step ${r.step} of ${steps}${checkpoint} (set resume = true to continue from it)${recorded}`);
    return ok("interrupted");
  }
  const resumed = r.resumedFromStep === undefined ? "" : ` (resumed after step ${r.resumedFromStep})`;
  const evalLine = r.best === null || r.best === undefined ? "" : `, held-out loss ${loss(r.best.value)} (perplexity ${Math.exp(r.best.value).toFixed(3)}, best at step ${r.best.step})`;
  say(io, `${where}: ${plural(r.step, "step")}${resumed} (${epochs.toFixed(epochs >= 10 ? 0 : 2)} epochs of ${count(samples.length)} samples, batch ${batch}${Number(o["accumulate"]) > 1 ? ` × ${String(o["accumulate"])}` : ""}) in ${seconds(elapsedMs)}, ${Number.isFinite(rate) ? count(rate) : "?"} tokens/s; loss ${loss(losses[0] ?? Number.NaN)} → ${loss(losses.at(-1) ?? Number.NaN)} (mean of the last ${tail.length}: ${loss(mean)})${evalLine}`);
  if (r.dataExhausted) warn(io, `${where}: the data ran out before step ${steps}`);

  const saved = applied.saveTrainable(output);
  if (saved.isErr()) return fail(`${where}: writing the result to ${shown(output, io.cwd)}: ${saved.error.message}`);
  // full and freeze write a whole checkpoint (config.json included): it needs the tokenizer to load.
  const whole = saved.value.some((f) => f.endsWith("config.json") && !f.endsWith("adapter_config.json"));
  if (whole) copyTokenizerFiles(state.dir, output);
  say(io, `${where}: ${whole ? "model" : `${applied.method} adapter`} written to ${shown(output, io.cwd)}${checkpoint}${recorded}`);
  return ok("done");
}
