// LoraMethod: LoRA attached to one model, as the trainer sees it (core's AppliedMethod): the adapters'
// parameters, LoRA+'s learning-rate group for the B matrices, train mode for dropout, saving in PEFT's
// layout, and merging the adapters into the base.
import { err, ok, type Result } from "neverthrow";
import {
  type AppliedMethod,
  type CausalLM,
  countElements,
  type GroupRule,
  MethodError,
  type Module,
  type RandomStream,
  type Tensor,
} from "../../../core/index.ts";
import { dropAdapterSet, loadAdapterSet } from "./adapter-sets.ts";
import type { LoraLinear, LoraRuntime } from "./lora-linear.ts";
import { writePeftAdapter } from "./peft-save.ts";
import { type LoraSettings, loraScale } from "./settings.ts";

export class LoraMethod implements AppliedMethod {
  readonly method = "lora";
  readonly groups: readonly GroupRule[];
  private merged = false;

  constructor(
    readonly model: CausalLM,
    readonly settings: LoraSettings,
    /** Adapted layers by module path, in model order. */
    readonly adapters: ReadonlyMap<string, LoraLinear>,
    /** Modules trained fully, by module path. */
    readonly additional: ReadonlyMap<string, Module>,
    private readonly runtime: LoraRuntime,
    readonly baseModel: string | null,
  ) {
    const ratio = settings.loraplusRatio;
    this.groups = ratio === null ? [] : [{ name: "loraplus_B", lrScale: ratio, match: (name: string) => name.endsWith(".lora_B.weight") }];
  }

  get scale(): number {
    return loraScale(this.settings.alpha, this.settings.rank, this.settings.rslora);
  }

  get params(): Readonly<Record<string, Tensor>> {
    return Object.fromEntries(this.model.trainableParameters());
  }

  get counts(): { trainable: number; total: number } {
    return { trainable: countElements(Object.values(this.params)), total: countElements(this.model.parameters()) };
  }

  get training(): boolean {
    return this.runtime.training;
  }
  set training(on: boolean) {
    this.runtime.training = on;
  }

  beginForward(rng?: RandomStream): void {
    this.runtime.bound = rng ?? this.runtime.bound ?? this.runtime.fallback;
    this.runtime.epoch++;
  }

  saveTrainable(dir: string): Result<string[], MethodError> {
    if (this.merged) return err(new MethodError("the adapters were merged into the base weights: save the model with saveModel (or export), not the adapter"));
    return writePeftAdapter(this, dir);
  }

  merge(): Result<void, MethodError> {
    if (this.merged) return ok(undefined);
    for (const lora of this.adapters.values()) lora.fuse();
    // Additional modules were trained in place: they are already part of the base.
    this.merged = true;
    return ok(undefined);
  }

  withAdaptersDisabled<T>(fn: () => T): Result<T, MethodError> {
    if (this.merged)
      return err(new MethodError("the adapters were merged into the base weights: the base model cannot be recovered to serve as the reference"));
    if (this.additional.size > 0)
      return err(
        new MethodError(
          `the reference model is the base without adapters, but ${[...this.additional.keys()].join(", ")} ${this.additional.size === 1 ? "is" : "are"} trained in place (additional_target): give an explicit reference model instead`,
        ),
      );
    const was = this.runtime.disabled;
    this.runtime.disabled = true;
    try {
      return ok(fn());
    } finally {
      this.runtime.disabled = was;
    }
  }

  loadAdapterSet(name: string, dir: string): Result<void, MethodError> {
    if (this.merged) return err(new MethodError("the adapters were merged into the base weights: a second adapter set needs the base model"));
    return loadAdapterSet(this.adapters, name, dir);
  }

  withAdapterSet<T>(name: string, fn: () => T): Result<T, MethodError> {
    if (this.merged) return err(new MethodError("the adapters were merged into the base weights: a second adapter set needs the base model"));
    if (![...this.adapters.values()].some((l) => l.sets.has(name))) return err(new MethodError(`no adapter set "${name}" is loaded`));
    if (this.additional.size > 0)
      return err(
        new MethodError(
          `${[...this.additional.keys()].join(", ")} are trained in place (additional_target): the base under adapter set "${name}" is not the original`,
        ),
      );
    const was = this.runtime.active;
    this.runtime.active = name;
    try {
      return ok(fn());
    } finally {
      this.runtime.active = was;
    }
  }

  dropAdapterSet(name: string): void {
    dropAdapterSet(this.adapters, name);
  }

  get isMerged(): boolean {
    return this.merged;
  }
}
