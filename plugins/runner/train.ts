// `train <stage> for N epochs|steps { ... }`: the stage's samples from the data worker, batched and
// shuffled per epoch, handed with the stage's loss to core's one train() loop (schedule, optimizer,
// accumulation, clipping, evaluation on the held-out part, checkpoints, the run store). At the end
// the method's result (a PEFT adapter, or a whole checkpoint) is written to the run's output folder.
// A stage that owns its batch source (RL rollouts) gets the samples, model and method and hands the
// loop its batches instead; their cursor is checkpointed like the shuffled one.
import { existsSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import type { TrainAction } from "../../core/index.ts";
import {
  type Batch,
  type BestSpec,
  type CausalLM,
  type Collectives,
  copyTokenizerFiles,
  evalLoss,
  generationOptions,
  listCheckpoints,
  loadModel,
  type ModelSpec,
  type OptimizerFactory,
  optimizerFactory,
  type Registry,
  type ResumableBatches,
  type RunHandlers,
  type RunnableStage,
  type RunStore,
  resolveModelPath,
  runnableStage,
  type ScheduleSpec,
  storeHooks,
  type TrainError,
  type TrainResult,
  train,
} from "../../core/index.ts";
import { zeroOptimizer } from "../optimizers/index.ts";
import { auxiliaryCoefficient, withAuxiliaryLoss } from "./aux-loss.ts";
import { chatSettingsOf, writeChatSettings } from "./chat-settings.ts";
import { collatorFor, prepare } from "./data.ts";
import { fail, type RunFailure } from "./failure.ts";
import { plural } from "./format.ts";
import { recipePath, shown, trainOutput } from "./paths.ts";
import { type ActionEnd, type Scope, say, warn } from "./scope.ts";
import { openStore, runInfo, storePath } from "./store.ts";
import { fixedBatches, stepsFor, trainBatches } from "./train-batches.ts";
import { runOutputs } from "./train-outputs.ts";
import { runTracker, trainSummary } from "./train-report.ts";

/**
 * The `optimizer = X` entry from the registry, built with the block's lr and X's own options (the
 * checker merged X's schema into the train block, so they sit beside lft's options); with `zero = 1` in a
 * job of several ranks, its state sharded over them (one rank has nothing to shard).
 */
function optimizerFor(
  registry: Registry,
  o: TrainAction["options"],
  where: string,
  model?: ModelSpec,
  collectives?: Collectives,
): Result<OptimizerFactory, RunFailure> {
  const entry = registry.get("optimizers", String(o.optimizer));
  if (entry.isErr()) return fail(`${where}: ${entry.error.message}`);
  const own = Object.fromEntries(
    Object.keys(entry.value.options ?? {})
      .filter((k) => o[k] !== undefined)
      .map((k) => [k, o[k]]),
  );
  const factory = optimizerFactory(entry.value, Number(o.lr), own, model);
  return ok(Number(o.zero ?? 0) === 1 && collectives && collectives.size > 1 ? zeroOptimizer(factory, collectives) : factory);
}

function scheduleSpec(action: TrainAction): ScheduleSpec {
  const warmup = Number(action.options.warmup);
  const kind = action.options.scheduler as ScheduleSpec["kind"];
  // `warmup = 100 steps` is a count; `warmup = 10%` (or 0.1) a fraction of the run.
  const minLr = typeof action.options.min_lr === "number" ? { minLr: action.options.min_lr } : {};
  return action.units.warmup === "steps" ? { kind, warmupSteps: Math.round(warmup), ...minLr } : { kind, warmupRatio: warmup, ...minLr };
}

/** metric_for_best_model, greater_is_better, early_stopping_steps and load_best_model_at_end, as train() takes them. */
function bestSpec(o: TrainAction["options"]): BestSpec {
  return {
    metric: String(o.metric_for_best_model ?? "eval_loss"),
    ...(typeof o.greater_is_better === "boolean" ? { greaterIsBetter: o.greater_is_better } : {}),
    patience: Number(o.early_stopping_steps ?? 0),
    loadAtEnd: o.load_best_model_at_end === true,
  };
}

/** resume = false starts over: earlier checkpoints in the output folder would otherwise be resumed or mixed in. */
function clearCheckpoints(output: string, scope: Scope, where: string): void {
  const old = listCheckpoints(output);
  if (old.length === 0) return;
  for (const c of old) rmSync(c.path, { recursive: true, force: true });
  say(
    scope.io,
    `${where}: removed ${plural(old.length, "earlier checkpoint")} from ${shown(output, scope.io.cwd)} (resume = false starts over; resume = true continues from the newest)`,
  );
}

/** Frozen models a stage asks for (a reference model), loaded once per train action and freed after it. */
function frozenModels(scope: Scope, located: ReadonlyMap<string, string>): { load: (path: string) => Result<CausalLM, Error>; dispose: () => void } {
  const loaded = new Map<string, CausalLM>();
  return {
    load(path) {
      const dir = located.get(path) ?? recipePath(scope.recipe, path);
      const cached = loaded.get(dir);
      if (cached) return ok(cached);
      if (!existsSync(join(dir, "config.json"))) return err(new Error(`${path}: no config.json in ${dir}; give a Hugging Face model folder`));
      const r = loadModel(dir, scope.registry);
      if (r.isErr()) return err(new Error(`${path}: ${r.error.message}`));
      r.value.model.freeze();
      loaded.set(dir, r.value.model);
      return ok(r.value.model);
    },
    dispose() {
      for (const m of loaded.values()) m.dispose();
      loaded.clear();
    },
  };
}

export async function trainAction(action: TrainAction, scope: Scope): Promise<Result<ActionEnd, RunFailure>> {
  const { recipe, registry, io, state } = scope;
  const o = action.options;
  const where = `train ${action.stage}`;
  const entry = registry.get("stages", action.stage);
  if (entry.isErr()) return fail(`${where}: ${entry.error.message}`);
  const stage = runnableStage(entry.value);
  if (stage.isErr()) return fail(`${where}: ${stage.error.message}`);
  const applied = state.method?.applied;
  if (applied === undefined)
    return fail(`${where}: no method is attached to the model; add a method block (method lora trains adapters, method full every weight)`);
  // The stage's own options (train_on_prompt, beta, ...) go to its loss; lft's go to the loop.
  const stageOptions = Object.fromEntries(
    Object.keys(entry.value.options ?? {})
      .filter((k) => o[k] !== undefined)
      .map((k) => [k, o[k]]),
  );

  const kind = stage.value.dataKind;
  if (o.neat_packing === true && stage.value.processor.packing?.neat !== true)
    return fail(`${where}: neat_packing: this stage's samples cannot be packed in isolation; use packing = true, or remove neat_packing`);
  const data = await prepare(scope, recipe.datasets, {
    processor: stage.value.processor,
    cutoff: Number(o.cutoff),
    pack: o.packing === true || o.pack === true || o.neat_packing === true,
    neatPack: o.neat_packing === true,
    holdout: Number(o.holdout),
    seed: Number(o.seed),
    ...(typeof stageOptions.train_on_prompt === "boolean" ? { trainOnPrompt: stageOptions.train_on_prompt } : {}),
    ...(typeof stageOptions.mask_history === "boolean" ? { maskHistory: stageOptions.mask_history } : {}),
  });
  if (data.isErr()) return err(data.error);
  const samples = data.value.train;
  if (samples.length === 0) return fail(`${where}: all ${data.value.eval.length} samples were held out (holdout = ${String(o.holdout)}); lower holdout`);
  const owned = stage.value.batches;
  if (owned && data.value.eval.length > 0)
    return fail(`${where}: this stage samples its own batches and has no held-out loss to evaluate; remove holdout (set holdout = 0)`);
  if ((o.load_best_model_at_end === true || Number(o.early_stopping_steps ?? 0) > 0) && data.value.eval.length === 0)
    return fail(`${where}: load_best_model_at_end and early_stopping_steps compare evaluations; hold out data to evaluate on (e.g. holdout = 0.1)`);
  const collate = owned
    ? ok((_: readonly unknown[]): Batch => {
        throw new Error(`stage ${action.stage} builds its own batches; its samples cannot be collated`);
      })
    : collatorFor(kind, data.value.encoder.padId);
  if (collate.isErr()) return fail(`${where}: ${collate.error.message}`);
  const optimizer = optimizerFor(registry, o, where, state.model.spec, scope.collectives);
  if (optimizer.isErr()) return err(optimizer.error);

  const batch = Number(o.batch);
  const accumulate = Number(o.accumulate);
  const ranks = scope.collectives?.size ?? 1;
  // Rank 0 alone writes the run's files and records it; the others only train in step with it.
  const lead = (scope.collectives?.rank ?? 0) === 0;
  const steps = stepsFor(action, samples.length, ranks);
  const output = trainOutput(recipe, action);
  const resume = o.resume === true;
  if (!resume && lead) clearCheckpoints(output, scope, where);

  const model = state.model;
  // A mixture of experts' router load-balancing loss, weighted by moe_aux_loss_coef (or the config's own).
  const auxCoef = auxiliaryCoefficient(model, o.moe_aux_loss_coef);
  if (auxCoef > 0 && !model.auxiliaryLoss) warn(io, `${where}: moe_aux_loss_coef: the ${state.spec.family} family has no router auxiliary loss; ignored`);
  if (auxCoef > 0 && model.auxiliaryLoss && o.checkpointing === true)
    return fail(`${where}: moe_aux_loss_coef cannot be combined with checkpointing = true (recomputed layers keep no router logits for the loss); remove one`);
  // A ref_model given as a hub id is found (or downloaded) now: the stage loads it synchronously mid-step.
  const located = new Map<string, string>();
  if (typeof stageOptions.ref_model === "string" && stageOptions.ref_model !== "") {
    const dir = await resolveModelPath(registry, stageOptions.ref_model, recipe.baseDir, io);
    if (dir.isErr()) return fail(`${where}: ref_model: ${dir.error.message}`);
    located.set(stageOptions.ref_model, dir.value);
  }
  const frozen = frozenModels(scope, located);
  // A stage's own trainable modules (rm's value head) train beside the method's parameters.
  const prepared = stage.value.prepare?.(model, stageOptions, { method: applied, seed: Number(o.seed) });
  if (prepared?.isErr()) return fail(`${where}: ${prepared.error.message}`);
  const modules = prepared?.isOk() ? prepared.value : undefined;
  const clash = Object.keys(modules?.params ?? {}).filter((n) => n in applied.params);
  if (clash.length > 0) return fail(`${where}: the stage's parameters ${clash.join(", ")} have the names of the method's`);
  const params = modules ? { ...applied.params, ...modules.params } : applied.params;
  const runStage: RunnableStage = modules ? { ...stage.value, loss: (m, b, _options, ctx) => modules.loss(m, b, ctx) } : stage.value;
  const lossFn = withAuxiliaryLoss(model, auxCoef, (b, ctx) => {
    applied.beginForward(ctx.rng);
    return runStage.loss(model, b, stageOptions, { step: ctx.step, micro: ctx.micro, method: applied, loadFrozen: frozen.load });
  });
  let batches: ResumableBatches<Batch>;
  if (owned) {
    const eos = [...new Set([...data.value.encoder.stopIds, ...(generationOptions(state.generation, state.spec).eosTokenIds ?? [])])];
    const source = owned({
      model,
      method: applied,
      samples,
      // The whole block: the stage's options and those of the entries they name (reward = regex → pattern).
      options: o,
      batchSize: batch,
      seed: Number(o.seed),
      tokenizer: state.tokenizer,
      padId: data.value.encoder.padId,
      eosTokenIds: eos,
      registry,
      ...(modules ? { prepared: modules } : {}),
      loadFrozen: frozen.load,
      resolvePath: (p: string) => recipePath(recipe, p),
    });
    if (source.isErr()) return fail(`${where}: ${source.error.message}`);
    batches = source.value;
  } else batches = trainBatches(samples, collate.value, batch, Number(o.seed));
  const heldOut = fixedBatches(data.value.eval, collate.value, batch);
  const evaluate = () => {
    applied.training = false;
    try {
      return evalLoss(heldOut, lossFn);
    } finally {
      applied.training = true;
    }
  };

  const tracker = runTracker();
  const outputs = lead
    ? runOutputs({
        dir: output,
        totalSteps: steps,
        logEvery: Number(o.log_every),
        samples: samples.length,
        samplesPerStep: batch * accumulate * ranks,
        batch,
        evalEvery: Number(o.eval_every),
        saveEvery: Number(o.save_every),
        tensorboard: o.report_to === "tensorboard",
        resume,
      })
    : undefined;
  const handlers: RunHandlers[] = outputs ? [tracker.handlers, outputs.handlers] : [];
  const lock = scope.outputLocks?.get(output);
  if (lock !== undefined) handlers.push({ name: "output-lock", onRunStart: (e) => lock.name(e.runId) });
  const store: Result<RunStore, Error> = lead ? openStore(io.cwd) : err(new Error("not rank 0"));
  if (store.isErr()) {
    if (lead) warn(io, `${where}: the run is not recorded: ${store.error.message}`);
  } else {
    const config = { model: recipe.model, datasets: recipe.datasets, method: recipe.method, stage: action.stage, duration: action.duration, train: o, steps };
    handlers.push(storeHooks(store.value, runInfo(recipe, io.cwd, `${recipe.file} · train ${action.stage}`, config)));
  }

  applied.training = true;
  model.gradientCheckpointing = o.checkpointing === true;
  let result: Result<TrainResult, TrainError>;
  try {
    result = await train<Batch>({
      recipe: recipe.file,
      params,
      optimizer: optimizer.value,
      weightDecay: Number(o.weight_decay),
      groups: applied.groups,
      ...(applied.noDecay === undefined ? {} : { noDecay: applied.noDecay }),
      schedule: scheduleSpec(action),
      steps,
      batches,
      lossFn,
      accumulation: accumulate,
      clipNorm: Number(o.clip),
      seed: Number(o.seed),
      ...(heldOut.length > 0 ? { eval: { every: Number(o.eval_every), fn: evaluate, split: "holdout" } } : {}),
      ...(heldOut.length > 0 ? { best: bestSpec(o) } : {}),
      checkpoint: { dir: output, every: Number(o.save_every), keep: Number(o.save_total_limit ?? 3), resume },
      hooks: registry,
      handlers,
      progress: { stream: { write: (s: string) => io.stderr(s), isTTY: Boolean(process.stderr.isTTY) }, every: Number(o.log_every) },
      signal: scope.signal,
      warn: (line: string) => warn(io, line),
      ...(scope.collectives ? { collectives: scope.collectives } : {}),
    });
  } finally {
    applied.training = false;
    model.gradientCheckpointing = false;
    frozen.dispose();
    if (store.isOk()) store.value.close();
  }
  if (result.isErr()) return fail(`${where}: ${result.error.message}`);
  const r = result.value;
  if (!outputs) return ok(r.status === "interrupted" ? "interrupted" : "done");
  if (r.step > (r.resumedFromStep ?? 0)) state.history.push(`${action.stage} ${plural(r.step, "step")}`);
  state.lastRun = {
    runId: r.runId,
    output,
    stage: runStage,
    stageOptions,
    kind,
    cutoff: Number(o.cutoff),
    heldOut: data.value.eval,
    collate: collate.value,
    encoder: data.value.encoder,
    step: r.step,
  };

  const recorded = store.isOk() ? `; run ${r.runId} recorded in ${shown(storePath(io.cwd), io.cwd)}` : "";
  const checkpoint = r.lastCheckpoint === undefined ? "" : `; checkpoint ${shown(r.lastCheckpoint, io.cwd)}`;
  if (r.status === "interrupted") {
    say(io, `${where}: interrupted after step ${r.step} of ${steps}${checkpoint} (set resume = true to continue from it)${recorded}`);
    return ok("interrupted");
  }
  say(io, trainSummary({ where, result: r, tracker, samples: samples.length, batch: batch * ranks, accumulate }));
  if (ranks > 1) say(io, `${where}: ${ranks} ranks (${scope.collectives!.engine}), ${batch} per rank, global batch ${batch * accumulate * ranks} per step`);
  if (ranks > 1 && Number(o.zero ?? 0) === 1) say(io, `${where}: optimizer state sharded over the ${ranks} ranks (zero = 1): 1/${ranks} on each`);
  if (r.stopReason) say(io, `${where}: stopped at step ${r.step} of ${steps}: ${r.stopReason}`);
  if (r.loadedBestStep !== undefined && r.best)
    say(io, `${where}: loaded the best checkpoint (step ${r.loadedBestStep}, ${r.best.metric} ${r.best.value.toPrecision(4)}) for the result`);
  outputs.finish({ step: r.step, losses: r.losses, elapsedMs: tracker.elapsedMs() });
  if (r.dataExhausted) warn(io, `${where}: the data ran out before step ${steps}`);

  const saved = applied.saveTrainable(output);
  if (saved.isErr()) return fail(`${where}: writing the result to ${shown(output, io.cwd)}: ${saved.error.message}`);
  const savedModules = modules?.save(output);
  if (savedModules?.isErr()) return fail(`${where}: writing the result to ${shown(output, io.cwd)}: ${savedModules.error.message}`);
  // full and freeze write a whole checkpoint (config.json included): it needs the tokenizer to load.
  const whole = saved.value.some((f) => f.endsWith("config.json") && !f.endsWith("adapter_config.json"));
  if (whole) copyTokenizerFiles(state.dir, output);
  writeChatSettings(output, chatSettingsOf(recipe));
  const own = (savedModules?.isOk() ? savedModules.value : []).map((f) => ` + ${basename(f)}`).join("");
  say(io, `${where}: ${whole ? "model" : `${applied.method} adapter`}${own} written to ${shown(output, io.cwd)}${checkpoint}${recorded}`);
  return ok("done");
}
