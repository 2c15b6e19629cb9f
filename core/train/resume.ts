// What the loop puts in a checkpoint and how it is put back: trainable weights (model.safetensors),
// optimizer moments (optimizer.safetensors + optimizer.json), scheduler.json, rng.json, data.json (the
// batch cursor) and trainer_state.json. Restoring validates everything before changing anything.
import { err, ok, type Result } from "neverthrow";
import type { Optimizer } from "../optim/optimizer.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { JsonValue, ResumableBatches } from "./batches.ts";
import { TrainError } from "./errors.ts";
import { TrainRng } from "./rng.ts";
import { type CheckpointContents, readCheckpointJson, readCheckpointTensors, STATE_FILE } from "./run-checkpoint.ts";
import type { Schedule } from "./schedule.ts";
import { stateFromJson, stateToJson, type TrainerState } from "./trainer-state.ts";

export interface RunParts<B> {
  readonly names: readonly string[];
  readonly params: readonly Tensor[];
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly rng: TrainRng;
  readonly batches: ResumableBatches<B>;
}

function scheduleJson(s: Schedule, step: number): Record<string, unknown> {
  return { ...s.spec, lr: s.lr, totalSteps: s.totalSteps, warmupSteps: s.warmupSteps, step };
}

export function checkpointContents<B>(parts: RunParts<B>, state: TrainerState): CheckpointContents {
  const { meta, tensors } = parts.optimizer.exportState();
  // Optimizer keys "<index>.<slot>" become "<parameter name>.<slot>" on disk, readable and order-proof.
  const optimizerTensors = [...tensors].map(([key, t]) => {
    const dot = key.indexOf(".");
    return [`${parts.names[Number(key.slice(0, dot))]}.${key.slice(dot + 1)}`, t] as const;
  });
  return {
    tensors: { "model.safetensors": parts.names.map((n, i) => [n, parts.params[i]!] as const), "optimizer.safetensors": optimizerTensors },
    json: {
      "optimizer.json": { ...meta, paramNames: parts.names },
      "scheduler.json": scheduleJson(parts.schedule, state.step),
      "rng.json": parts.rng.state(),
      "data.json": parts.batches.state(),
      [STATE_FILE]: stateToJson(state),
    },
  };
}

/** Loads a checkpoint into the run's parts; returns its trainer state and the restored rng. */
export function restoreCheckpoint<B>(dir: string, parts: RunParts<B>): Result<{ state: TrainerState; rng: TrainRng }, TrainError> {
  const fail = (m: string) => err(new TrainError("checkpoint", `cannot resume from ${dir}: ${m}`));
  const stateRaw = readCheckpointJson(dir, STATE_FILE).andThen((r) => stateFromJson(r, STATE_FILE));
  if (stateRaw.isErr()) return fail(stateRaw.error.message);
  const state = stateRaw.value;
  if (state.paramNames.join("\n") !== parts.names.join("\n")) {
    const missing = state.paramNames.filter((n) => !parts.names.includes(n));
    const extra = parts.names.filter((n) => !state.paramNames.includes(n));
    return fail(
      `it trained a different parameter set (only in the checkpoint: ${missing.join(", ") || "none"}; only in this run: ${extra.join(", ") || "none"}${!missing.length && !extra.length ? "; same names, different order" : ""})`,
    );
  }
  const sched = readCheckpointJson(dir, "scheduler.json");
  if (sched.isErr()) return fail(sched.error.message);
  // The schedule's shape must match; the total may grow or shrink (continuing a finished run for more
  // steps), in which case the schedule from here on follows the new total.
  const { totalSteps: _t, warmupSteps: _w, step: _s, ...want } = scheduleJson(parts.schedule, state.step);
  const { totalSteps: _t2, warmupSteps: _w2, step: _s2, ...got } = sched.value as Record<string, unknown>;
  for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
    if (got[k] !== want[k])
      return fail(
        `the schedule changed (${k}: checkpoint ${JSON.stringify(got[k])}, this run ${JSON.stringify(want[k])}); resume with the settings it was started with`,
      );
  }
  const weights = checkpointWeights(dir, parts.names, parts.params);
  if (weights.isErr()) return fail(weights.error);
  const datas = weights.value;
  const optMeta = readCheckpointJson(dir, "optimizer.json");
  if (optMeta.isErr()) return fail(optMeta.error.message);
  const optFile = readCheckpointTensors(dir, "optimizer.safetensors");
  if (optFile.isErr()) return fail(optFile.error.message);
  const byIndex = new Map(
    [...optFile.value].map(([key, t]) => {
      const slotAt = key.lastIndexOf(".");
      return [`${parts.names.indexOf(key.slice(0, slotAt))}.${key.slice(slotAt + 1)}`, t] as const;
    }),
  );
  const rng = readCheckpointJson(dir, "rng.json").andThen((r) => TrainRng.restore(r));
  if (rng.isErr()) return fail(rng.error.message);
  const data = readCheckpointJson(dir, "data.json");
  if (data.isErr()) return fail(data.error.message);

  const imported = parts.optimizer.importState(optMeta.value, byIndex);
  if (imported.isErr()) return fail(imported.error.message);
  const restored = parts.batches.restore(data.value as JsonValue);
  if (restored.isErr()) return fail(restored.error.message);
  for (const [i, p] of parts.params.entries()) p.backend.upload(p, datas[i]!);
  state.totalSteps = parts.schedule.totalSteps;
  return ok({ state, rng: rng.value });
}

/** The trainable weights a checkpoint holds, in `names` order, checked against the run's shapes. */
function checkpointWeights(dir: string, names: readonly string[], params: readonly Tensor[]): Result<Float32Array[], string> {
  const weights = readCheckpointTensors(dir, "model.safetensors");
  if (weights.isErr()) return err(weights.error.message);
  const datas: Float32Array[] = [];
  for (const [i, name] of names.entries()) {
    const t = weights.value.get(name);
    const p = params[i]!;
    if (!t) return err(`model.safetensors has no tensor "${name}"`);
    if (t.shape.join(",") !== p.shape.join(",")) return err(`"${name}" is [${t.shape.join(", ")}] in the checkpoint but [${p.shape.join(", ")}] in this run`);
    datas.push(t.data);
  }
  return ok(datas);
}

/** Loads only a checkpoint's weights into the run's parameters (load_best_model_at_end). */
export function loadCheckpointWeights<B>(dir: string, parts: RunParts<B>): Result<void, TrainError> {
  const weights = checkpointWeights(dir, parts.names, parts.params);
  if (weights.isErr()) return err(new TrainError("checkpoint", `cannot load the best checkpoint ${dir}: ${weights.error}`));
  for (const [i, p] of parts.params.entries()) p.backend.upload(p, weights.value[i]!);
  return ok(undefined);
}
