// Attaching LoRA to a model: resolve the targets, freeze the base, wrap each target Linear in a
// LoraLinear, make the additional modules (PEFT's modules_to_save) trainable in f32, and hand back a
// LoraMethod that saves in PEFT's layout and merges. The lora method plugin and the PEFT loader both
// come through here, so a loaded adapter is built exactly like a trained one.
import { type Result, err, ok } from "neverthrow";
import type { CausalLM } from "../nn/causal-lm.ts";
import type { Module } from "../nn/module.ts";
import type { GroupRule } from "../optim/groups.ts";
import { TrainRng } from "../train/rng.ts";
import { Tensor } from "../tensor/tensor.ts";
import { type LoraInit, LoraLinear, type LoraRuntime } from "./lora-linear.ts";
import { type AppliedMethod, type ApplyContext, MethodError, type RandomStream, countElements } from "./method.ts";
import { writePeftAdapter } from "./peft-save.ts";
import { fullMatchRegExp, resolveLinearTargets, resolveModules } from "./targets.ts";

export interface LoraSettings {
  readonly rank: number;
  readonly alpha: number;
  readonly dropout: number;
  /** Module names (PEFT target_modules as a list); `all` must already be expanded. */
  readonly targets: readonly string[];
  /** A PEFT config's string target_modules: one regular expression over whole module paths (wins over `targets`). */
  readonly targetPattern?: string;
  readonly rslora: boolean;
  readonly dora: boolean;
  readonly init: LoraInit;
  /** PiSSA: subspace iterations (negative: exact SVD). */
  readonly pissaIter: number;
  /** LoRA+: B matrices train at lr × this; null: off. */
  readonly loraplusRatio: number | null;
  /** Modules trained fully and saved with the adapter (PEFT's modules_to_save). */
  readonly additionalTargets: readonly string[];
}

/** The update's multiplier: alpha / r, or alpha / sqrt(r) with rsLoRA (Kalajdzievski 2023). */
export function loraScale(alpha: number, rank: number, rslora: boolean): number {
  return rslora ? alpha / Math.sqrt(rank) : alpha / rank;
}

export interface AdapterTargets {
  readonly adapterTargets: readonly string[];
}

/** Problems with settings that the option schema cannot express. */
function settingProblems(s: LoraSettings): string[] {
  const p: string[] = [];
  if (!(Number.isInteger(s.rank) && s.rank >= 1)) p.push(`rank must be an integer >= 1, found ${s.rank}`);
  if (!(Number.isFinite(s.alpha) && s.alpha > 0)) p.push(`alpha must be > 0, found ${s.alpha}`);
  if (!(s.dropout >= 0 && s.dropout < 1)) p.push(`dropout must be in [0, 1), found ${s.dropout}`);
  if (s.loraplusRatio !== null && !(Number.isFinite(s.loraplusRatio) && s.loraplusRatio > 0)) p.push(`loraplus_lr_ratio must be > 0, found ${s.loraplusRatio}`);
  if (s.targetPattern === undefined && s.targets.length === 0) p.push("targets is empty: name the linear layers to adapt (or all)");
  return p;
}

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

  get isMerged(): boolean {
    return this.merged;
  }
}

/** Replaces half-precision storage under `prefix` with f32 copies, so those parameters can train. */
function widenToF32(model: CausalLM, prefix: string): void {
  for (const [path, slot] of model.namedSlots()) {
    const t = slot.tensor;
    if (!t || t.dtype === "f32" || !(path === prefix || path.startsWith(`${prefix}.`))) continue;
    const wide = Tensor.alloc(t.backend, t.shape, "f32");
    t.backend.cast(wide, t);
    model.setParameter(path, wide)._unsafeUnwrap();
  }
}

/**
 * Attaches LoRA adapters to `model` per `s`. The whole base is frozen; adapters (and additional
 * modules) are trainable. Returns every problem at once.
 */
export function applyLora(model: CausalLM, s: LoraSettings, family: AdapterTargets, ctx: ApplyContext = {}): Result<LoraMethod, MethodError> {
  const fail = (problems: string[]) => err(new MethodError(`method "lora": ${problems.join("; ")}`, problems));
  const problems = settingProblems(s);
  if (problems.length > 0) return fail(problems);
  const wrapped = model.namedModules().filter(([, m]) => (m as { adapter?: unknown }).adapter);
  if (wrapped.length > 0) return fail([`the model already has adapters (${wrapped[0]![0]}, ...): merge them or load a fresh base`]);

  let spec: readonly string[] | RegExp = s.targets;
  if (s.targetPattern !== undefined) {
    const re = fullMatchRegExp(s.targetPattern);
    if (re.isErr()) return fail([re.error]);
    spec = re.value;
  }
  const targets = resolveLinearTargets(model, spec, family.adapterTargets);
  const extra = resolveModules(model, s.additionalTargets, "additional_target");
  const found = [...(targets.isErr() ? targets.error : []), ...(extra.isErr() ? extra.error : [])];
  if (targets.isOk() && extra.isOk()) {
    for (const [mp] of extra.value) {
      const clash = targets.value.find(([tp]) => tp === mp || tp.startsWith(`${mp}.`) || mp.startsWith(`${tp}.`));
      if (clash) found.push(`additional_target ${mp} overlaps the adapted layer ${clash[0]}: a module is either adapted or trained fully`);
    }
    if (s.init === "pissa") {
      for (const [path, linear] of targets.value) {
        if (s.rank > Math.min(linear.inFeatures, linear.outFeatures)) found.push(`PiSSA rank ${s.rank} exceeds the smaller side of ${path} [${linear.outFeatures}, ${linear.inFeatures}]`);
      }
    }
  }
  if (found.length > 0 || targets.isErr() || extra.isErr()) return fail(found);

  const seed = BigInt(ctx.seed ?? 0);
  const runtime: LoraRuntime = { training: true, bound: null, epoch: 0, fallback: new TrainRng(seed), model };
  const cfg = { rank: s.rank, scale: loraScale(s.alpha, s.rank, s.rslora), dropout: s.dropout, dora: s.dora };
  model.freeze();
  const adapters = new Map<string, LoraLinear>();
  targets.value.forEach(([path, linear], i) => {
    adapters.set(path, LoraLinear.fromBase(linear, cfg, runtime, { kind: s.init, seed, offset: BigInt(i) << 32n, pissaIter: s.pissaIter }));
  });
  const additional = new Map<string, Module>();
  for (const [path, module] of extra.value) {
    widenToF32(model, path);
    model.unfreeze((p) => p.startsWith(`${path}.`))._unsafeUnwrap();
    additional.set(path, module);
  }
  return ok(new LoraMethod(model, s, adapters, additional, runtime, ctx.baseModel ?? null));
}
