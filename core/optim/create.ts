// Optimizer choice as data (what a recipe states): a spec names the kind and its hyperparameters;
// createOptimizer builds it over parameter groups. Methods that bring their own optimizer pass an
// Optimizer instance to train() instead.
import { err, ok, type Result } from "neverthrow";
import { AdamW } from "./adamw.ts";
import type { ParamGroupInput } from "./groups.ts";
import type { Optimizer } from "./optimizer.ts";
import { SGD } from "./sgd.ts";

export interface AdamWSpec {
  readonly kind: "adamw";
  readonly lr: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  readonly weightDecay?: number;
}

export interface SGDSpec {
  readonly kind: "sgd";
  readonly lr: number;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
}

export type OptimizerSpec = AdamWSpec | SGDSpec;

export function createOptimizer(spec: OptimizerSpec, groups: readonly ParamGroupInput[]): Result<Optimizer, Error> {
  const bad = (Object.entries(spec) as [string, unknown][]).find(([k, v]) => typeof v === "number" && (!Number.isFinite(v) || (v < 0 && k !== "lr")));
  if (bad) return err(new Error(`optimizer ${spec.kind}: ${bad[0]} must be a finite non-negative number, found ${String(bad[1])}`));
  if (!(spec.lr >= 0)) return err(new Error(`optimizer ${spec.kind}: lr must be >= 0, found ${spec.lr}`));
  switch (spec.kind) {
    case "adamw":
      for (const k of ["beta1", "beta2"] as const) {
        const v = spec[k];
        if (v !== undefined && !(v >= 0 && v < 1)) return err(new Error(`optimizer adamw: ${k} must be in [0, 1), found ${v}`));
      }
      return ok(new AdamW(groups, spec));
    case "sgd":
      if (spec.nesterov && (!(spec.momentum! > 0) || (spec.dampening ?? 0) !== 0)) return err(new Error("optimizer sgd: nesterov needs momentum > 0 and dampening 0"));
      return ok(new SGD(groups, spec));
    default: {
      const kind: unknown = (spec as { kind?: unknown }).kind;
      return err(new Error(`unknown optimizer "${String(kind)}"; known: adamw, sgd`));
    }
  }
}
