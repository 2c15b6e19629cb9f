// A resolved recipe and its model's config.json → PlanInput: the family (the model block's, or the
// config's model_type), the load dtype (`auto`: the config's torch_dtype), the method, the first train
// block's stage, optimizer, batch, cutoff and checkpointing, and the largest generation a chat or
// predict block asks for (prompt up to the cutoff plus max_new_tokens).
import { join, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { readJsonObject } from "../io/json.ts";
import { familyByName, familyForModelType } from "../nn/family.ts";
import type { HfConfig } from "../nn/spec.ts";
import type { Registry } from "../registry/registry.ts";
import type { ResolvedRecipe, TrainAction } from "../run/recipe.ts";
import { PlanError } from "./plan-memory.ts";
import type { PlanGeneration, PlanInput, PlanWeightDType } from "./types.ts";

/** The load dtype: the recipe's, else the checkpoint's own (config torch_dtype), else f32. */
export function planDType(written: unknown, config: HfConfig): PlanWeightDType {
  if (written === "f32" || written === "bf16" || written === "f16") return written;
  const stored = config.torch_dtype ?? config.dtype;
  if (stored === "bfloat16" || stored === "bf16") return "bf16";
  if (stored === "float16" || stored === "f16") return "f16";
  return "f32";
}

/** The model block's config.json, read (paths resolve against the recipe's folder). */
export function recipeModelConfig(recipe: ResolvedRecipe): Result<{ config: HfConfig; where: string }, PlanError> {
  if (!recipe.model) return err(new PlanError(`${recipe.file}: the recipe has no model block, so there is nothing to plan`));
  const where = join(resolve(recipe.baseDir, recipe.model.path), "config.json");
  const read = readJsonObject(where, "model config");
  return read.isErr() ? err(new PlanError(read.error.message)) : ok({ config: read.value, where });
}

/** PlanInput for `recipe` over `config`; `train` picks the train block (default the first). */
export function planInputFromRecipe(
  recipe: ResolvedRecipe,
  config: HfConfig,
  registry: Pick<Registry, "get" | "list">,
  where = "config.json",
  train?: TrainAction,
): Result<PlanInput, PlanError> {
  const block = recipe.model;
  if (!block) return err(new PlanError(`${recipe.file}: the recipe has no model block, so there is nothing to plan`));
  const family = block.family ? familyByName(registry, block.family) : familyForModelType(registry, String(config.model_type ?? ""), where);
  if (family.isErr()) return err(new PlanError(family.error.message));
  const action = train ?? recipe.actions.find((a): a is TrainAction => a.action === "train");
  const o = action?.options ?? {};
  const cutoff = Number(o.cutoff ?? 1024);
  let generation: PlanGeneration | undefined;
  for (const a of recipe.actions) {
    if (a.action !== "chat" && a.action !== "predict") continue;
    const batch = a.action === "predict" ? Number(a.options.batch ?? 1) : 1;
    const prompt = Math.min(cutoff, 1024);
    const tokens = prompt + Number(a.options.max_new_tokens ?? 256);
    if (!generation || batch * tokens > generation.batch * generation.tokens) generation = { batch, tokens, prompt };
  }
  const optimizer = String(o.optimizer ?? "adamw");
  return ok({
    family: family.value.name,
    config,
    where,
    dtype: planDType(block.options.dtype, config),
    ...(recipe.method ? { method: { name: recipe.method.name, options: recipe.method.options } } : {}),
    optimizer: { name: optimizer, options: o },
    stage: { name: action?.stage ?? "sft", options: o },
    batch: Number(o.batch ?? 1),
    seqLen: cutoff,
    accumulation: Number(o.accumulate ?? 1),
    recompute: o.checkpointing === true,
    ...(generation ? { generation } : {}),
    train: action !== undefined,
  });
}
