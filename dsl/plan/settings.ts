// A checked recipe → what a plan is computed from: the model's config.json (read, never the weights;
// a hub id from the local HF cache), the memory planner's PlanInput (core's planInputFromRecipe) and
// the time model's TrainShape. Reads the first train
// block; a recipe without one is planned for its generation (chat, predict, eval) alone.
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { type PlanInput, parseRepoId, planInputFromRecipe, type Registry, type ResolvedRecipe, type TrainAction } from "../../core/index.ts";
import { cachedSnapshot } from "../../plugins/hub/index.ts";
import type { TrainShape } from "./flops";
import { type ModelShape, modelShapeOf } from "./model-shape";

export interface PlanSettings {
  readonly input: PlanInput;
  readonly model: ModelShape;
  /** Absent: the recipe trains nothing. */
  readonly train?: TrainShape;
  /** The train block's duration in optimizer steps, when it is given in steps. */
  readonly steps?: number;
  /** GEMMs run in bf16 on a GPU (the weights' dtype, or QLoRA's compute dtype). */
  readonly bf16: boolean;
  readonly configFile: string;
  /** Why the step time is not predicted (a stage that samples its own batches: rollouts dominate). */
  readonly untimed?: string;
}

function modelDir(recipe: ResolvedRecipe): Result<string, string> {
  const model = recipe.model;
  if (model === undefined) return err("the recipe has no model block; a plan needs the model's config.json");
  const local = isAbsolute(model.path) ? model.path : resolve(recipe.baseDir, model.path);
  if (existsSync(local)) return statSync(local).isDirectory() ? ok(local) : err(`${local} is a file; a model is a folder with config.json`);
  const repo = parseRepoId(model.path);
  const cached = repo === undefined ? undefined : cachedSnapshot("model", repo.id, repo.revision);
  if (cached !== undefined) return ok(cached);
  return err(
    repo === undefined
      ? `no model folder ${local}`
      : `${model.path} is not downloaded yet; a plan reads its config.json: run the recipe once, or lft models pull it`,
  );
}

function readConfig(file: string): Result<Record<string, unknown>, string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return err(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return err(`${file}: expected a JSON object`);
    return ok(v as Record<string, unknown>);
  } catch (e) {
    return err(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

export function planSettings(recipe: ResolvedRecipe, registry: Registry): Result<PlanSettings, string> {
  const dir = modelDir(recipe);
  if (dir.isErr()) return err(dir.error);
  const configFile = resolve(dir.value, "config.json");
  const config = readConfig(configFile);
  if (config.isErr()) return err(config.error);
  const shape = modelShapeOf(config.value);
  if (shape.isErr()) return err(`${configFile}: ${shape.error}`);
  const planned = planInputFromRecipe(recipe, config.value, registry, configFile);
  if (planned.isErr()) return err(planned.error.message);
  const input = planned.value;
  const train = recipe.actions.find((a): a is TrainAction => a.action === "train");
  const method = recipe.method;
  const quantised = method?.name === "qlora";
  return ok({
    input,
    model: shape.value,
    ...(train === undefined ? {} : { train: trainShape(train, method, shape.value) }),
    ...(train?.duration.unit === "steps" ? { steps: train.duration.amount } : {}),
    bf16: input.dtype !== "f32" || quantised,
    configFile,
    ...(train !== undefined && ownsBatches(registry, train.stage)
      ? { untimed: `train ${train.stage} samples its own batches (generation, then a step on sequences whose length the data decides)` }
      : {}),
  });
}

function trainShape(train: TrainAction, method: ResolvedRecipe["method"], model: ModelShape): TrainShape {
  const o = train.options;
  const rank = method?.options.rank;
  const name = method?.name ?? "full";
  const layers = Number(method?.options.layers ?? 2);
  const baseTrains: TrainShape["baseTrains"] =
    name === "freeze" ? { fromLayer: layers > 0 ? Math.max(0, model.layers - layers) : 0 } : typeof rank === "number" ? "none" : "all";
  const targets = method?.options.targets;
  const perRow = stageSequences(train);
  return {
    batch: Number(o.batch ?? 1),
    seq: Number(o.cutoff ?? 1024),
    accumulate: Number(o.accumulate ?? 1),
    baseTrains,
    ...(typeof rank === "number" ? { adapter: { rank, targets: Array.isArray(targets) ? targets.map(String) : ["all"] } } : {}),
    recompute: o.checkpointing === true,
    ...perRow,
  };
}

/**
 * Sequences a stage's step runs per row and whether it runs a frozen reference forward (the base with
 * adapters off): DPO's chosen and rejected rows (ORPO and SimPO have no reference), KTO's reference,
 * GRPO's group. The time model only; the memory planner asks the stage's own formula.
 */
function stageSequences(train: TrainAction): { sequencesPerSample: number; referenceForward: boolean } {
  const o = train.options;
  if (train.stage === "dpo") return { sequencesPerSample: 2, referenceForward: !["orpo", "simpo"].includes(String(o.loss)) };
  if (train.stage === "kto") return { sequencesPerSample: 1, referenceForward: true };
  if (train.stage === "grpo") return { sequencesPerSample: Number(o.group ?? 1), referenceForward: Number(o.beta ?? 0) > 0 };
  return { sequencesPerSample: 1, referenceForward: false };
}

function ownsBatches(registry: Registry, stage: string): boolean {
  const entry = registry.get("stages", stage);
  return entry.isOk() && typeof entry.value.batches === "function";
}
