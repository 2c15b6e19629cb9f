// What GaLore and APOLLO share beside their own options: Adam's betas and eps (as `optimizer = adamw`),
// LLaMA-Factory's rank / update_interval / target / layerwise, and the combinations they refuse.
import { err, ok, type Result } from "neverthrow";
import type { OptimizerConflict, OptimizerSettings, OptimizerUse, OptionSchema, OptionsOf } from "../../../core/index.ts";
import { adamwOptions } from "../adamw.ts";
import { checkBelowOne } from "../entry-helpers.ts";
import { zeroConflicts } from "../zero.ts";
import type { LowRankSettings } from "./lowrank-adamw.ts";

export const lowRankOptions = {
  ...adamwOptions,
  rank: { type: "number", integer: true, min: 1, default: 16, doc: "rank of the projected gradient (LF: *_rank)" },
  update_interval: { type: "number", integer: true, min: 1, default: 200, doc: "steps between projection refreshes (LF: *_update_interval)" },
  target: { type: "string", default: "all", doc: '"all" Linear weights or comma-separated module names ("q_proj,v_proj"); others get AdamW' },
  layerwise: { type: "boolean", default: false, doc: "step each weight during backward and free its gradient at once (no accumulation, no clipping)" },
} as const satisfies OptionSchema;

/** Recipe-level refusals: LoRA methods (LLaMA-Factory refuses them too) and what layer-wise mode cannot do. */
export function lowRankConflicts(kind: string, use: OptimizerUse): OptimizerConflict[] {
  const out: OptimizerConflict[] = zeroConflicts(kind, use);
  if (use.method?.includes("lora"))
    out.push({
      keys: ["optimizer"],
      message: `optimizer "${kind}" projects the gradients of full weights and cannot train with method ${use.method}; use method full or freeze, or another optimizer`,
    });
  if (use.train.layerwise === true) {
    if (Number(use.train.accumulate ?? 1) > 1)
      out.push({
        keys: ["accumulate", "layerwise"],
        message: `layer-wise ${kind} steps each weight during backward, so it cannot accumulate gradients over micro-batches; set accumulate = 1 or layerwise = false`,
      });
    if (Number(use.train.clip ?? 0) > 0)
      out.push({
        keys: ["clip", "layerwise"],
        message: `layer-wise ${kind} steps each weight before the global gradient norm is known, so it cannot clip; set clip = 0 or layerwise = false`,
      });
  }
  return out;
}

/** The same layer-wise limits when train() builds the optimizer (callers from code skip lft check). */
export function checkLayerwise(kind: string, layerwise: boolean, s: OptimizerSettings): Result<void, Error> {
  if (!layerwise) return ok(undefined);
  if (s.accumulation > 1)
    return err(new Error(`optimizer "${kind}": layerwise needs accumulation 1 (found ${s.accumulation}); gradients are freed as soon as each weight steps`));
  if (s.clipNorm > 0) return err(new Error(`optimizer "${kind}": layerwise cannot clip gradients (clip ${s.clipNorm}); set clip to 0`));
  return ok(undefined);
}

/** The settings LowRankAdamW is built with, from a recipe's values; refuses betas of 1 and what layer-wise mode cannot do. */
export function lowRankSettings(kind: string, o: OptionsOf<typeof lowRankOptions>, s: OptimizerSettings): Result<LowRankSettings, Error> {
  const betas = checkBelowOne(kind, o, ["beta1", "beta2"]);
  if (betas.isErr()) return err(betas.error);
  const layer = checkLayerwise(kind, o.layerwise, s);
  if (layer.isErr()) return err(layer.error);
  return ok({
    lr: s.lr,
    beta1: o.beta1,
    beta2: o.beta2,
    eps: o.eps,
    rank: o.rank,
    updateInterval: o.update_interval,
    target: o.target,
    layerwise: o.layerwise,
  });
}
