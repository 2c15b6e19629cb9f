// The contract every optimizer meets so the one train loop can drive it and checkpoint it: set `lr`
// (the schedule's value), `update()`, `zeroGrad()`, and export/import its state as plain JSON plus
// named f32 tensors ("<param index>.<slot>"), which is what a checkpoint stores. The helpers below
// are shared by optimizer plugins (state slots, checks, gradient dropping); no optimizer lives here.
import { err, ok, type Result } from "neverthrow";
import { Tensor } from "../tensor/tensor.ts";
import type { ParamGroup } from "./groups.ts";

/** A tensor read back from a checkpoint file, before it is placed on a device. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** JSON part of an optimizer's state; `kind` guards against loading AdamW state into SGD. */
export interface OptimizerMeta {
  readonly kind: string;
  /** update() calls so far. */
  readonly step: number;
  /** Flattened parameter count across groups; a checkpoint from another parameter set is refused. */
  readonly paramCount: number;
  /** Per parameter with state: its index and its own update count. */
  readonly params: readonly { readonly index: number; readonly step: number }[];
  readonly hyper: Readonly<Record<string, number | boolean>>;
}

export interface Optimizer {
  readonly kind: string;
  readonly groups: readonly ParamGroup[];
  /** All parameters, groups flattened in order: the indices state keys refer to. */
  readonly params: readonly Tensor[];
  /** Base learning rate; a group uses lr * lrScale. The schedule sets it before each update. */
  lr: number;
  readonly step: number;
  update(): void;
  /**
   * After update(): the first parameter the update left with NaN/±Inf values (train() stops the run
   * before saving it). Optional: without it train() counts over every parameter itself. An optimizer
   * whose kernel counts while writing (AdamW) answers without a second pass.
   */
  nonFinite?(): NonFiniteParam | null;
  /**
   * The per-parameter state slots, when each is shaped like its parameter and updated element by element
   * (AdamW's moments, SGD's momentum): such state may be cut anywhere, which is what ZeRO-1 sharding needs.
   * Absent when the state follows matrices or blocks (GaLore, Muon, Adam-mini, BAdam).
   */
  readonly elementwiseSlots?: readonly string[];
  /**
   * Collective, for optimizers whose state is spread over the ranks of a data-parallel job (ZeRO-1): every
   * rank calls it before a checkpoint is saved, so that exportState on rank 0 then holds the whole state.
   */
  gatherState?(): void;
  /**
   * True when the optimizer steps each tensor inside backward as its gradient completes (GaLore's
   * layerwise mode): data parallelism cannot average those gradients first, so train() refuses it there.
   */
  readonly stepsDuringBackward?: boolean;
  zeroGrad(): void;
  /** The live state tensors (not copies) keyed "<index>.<slot>", with the JSON part. */
  exportState(): { meta: OptimizerMeta; tensors: Map<string, Tensor> };
  /** Replaces all state; on error the optimizer is left as it was. */
  importState(meta: unknown, tensors: ReadonlyMap<string, HostTensor>): Result<void, Error>;
  dispose(): void;
}

/** A parameter holding NaN/±Inf values after an update: its name (the checkpoint key) and how many. */
export interface NonFiniteParam {
  readonly name: string;
  readonly count: number;
}

/** The first parameter of the groups with NaN/±Inf values (one backend count per tensor), or null. */
export function firstNonFinite(groups: readonly ParamGroup[]): NonFiniteParam | null {
  for (const g of groups) {
    for (const [i, p] of g.params.entries()) {
      const count = p.backend.countNonFinite(p);
      if (count > 0) return { name: g.names[i]!, count };
    }
  }
  return null;
}

/** What train() tells an optimizer factory besides the groups. */
export interface OptimizerContext {
  /** Optimizer steps in the whole run (for optimizers with a schedule of their own: BAdam's block switches, GaLore's projection refresh). */
  readonly totalSteps: number;
  /** Micro-batches per step (default 1); an optimizer that steps during backward needs 1. */
  readonly accumulation?: number;
  /** Gradient-norm clipping threshold (0 or absent: off); clipping needs every gradient at once. */
  readonly clipNorm?: number;
}

/**
 * How train() gets its optimizer: it builds the parameter groups (names, shapes, lr multipliers,
 * weight decay) and hands them over; the factory decides everything else.
 */
export type OptimizerFactory = (groups: readonly ParamGroup[], ctx: OptimizerContext) => Result<Optimizer, Error>;

/** Checks the JSON part of a saved state against this optimizer; returns it typed. */
export function checkMeta(meta: unknown, kind: string, paramCount: number): Result<OptimizerMeta, Error> {
  const m = meta as Partial<OptimizerMeta> | null;
  if (typeof m !== "object" || m === null) return err(new Error(`optimizer state: expected an object, found ${JSON.stringify(meta)}`));
  if (m.kind !== kind)
    return err(new Error(`optimizer state was saved by "${String(m.kind)}" but this run uses "${kind}"; resume with the same optimizer or start a fresh run`));
  if (m.paramCount !== paramCount)
    return err(
      new Error(`optimizer state covers ${String(m.paramCount)} parameters but this run trains ${paramCount}; the trainable set changed since the checkpoint`),
    );
  if (!Number.isInteger(m.step) || m.step! < 0) return err(new Error(`optimizer state: step must be a non-negative integer, found ${String(m.step)}`));
  if (!Array.isArray(m.params)) return err(new Error("optimizer state: params must be a list"));
  for (const p of m.params) {
    if (!Number.isInteger(p?.index) || p.index < 0 || p.index >= paramCount || !Number.isInteger(p?.step) || p.step < 0) {
      return err(new Error(`optimizer state: bad parameter entry ${JSON.stringify(p)} (index must be in [0, ${paramCount}), step >= 0)`));
    }
  }
  return ok(m as OptimizerMeta);
}

/** A saved slot for parameter `index`, checked against the parameter's shape. */
export function slotData(tensors: ReadonlyMap<string, HostTensor>, index: number, slot: string, param: Tensor, name: string): Result<Float32Array, Error> {
  const key = `${index}.${slot}`;
  const t = tensors.get(key);
  if (!t) return err(new Error(`optimizer state: missing tensor "${key}" (${slot} of parameter "${name}")`));
  const same = t.shape.length === param.shape.length && t.shape.every((d, i) => d === param.shape[i]);
  if (!same || t.data.length !== param.numel)
    return err(new Error(`optimizer state: "${key}" has shape [${t.shape.join(", ")}] but parameter "${name}" is [${param.shape.join(", ")}]`));
  return ok(t.data);
}

/**
 * An untracked f32 tensor on `p`'s backend (optimizer state outlives step scopes), shaped like `p`
 * unless `shape` says otherwise (per-block or low-rank state), filled from data or with 0.
 */
export function stateTensor(p: Tensor, data?: Float32Array, shape: readonly number[] = p.shape): Tensor {
  const t = Tensor.alloc(p.backend, shape, "f32", false);
  if (data) t.backend.upload(t, data);
  else t.backend.fill(t, 0);
  return t;
}

export function checkHyper(kind: string, h: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(h)) if (!Number.isFinite(v)) throw new RangeError(`${kind}: ${k} must be a finite number, got ${v}`);
}

/** Drops every parameter's gradient (the next backward allocates fresh ones). */
export function dropGrads(params: readonly Tensor[]): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}

/**
 * The state of every parameter that has some, as checkpoint slots: `${index}.${slot}` tensors plus the
 * per-parameter step counts. `slots` names a parameter's state tensors.
 */
export function exportSlots<S extends { step: number }>(
  params: readonly Tensor[],
  state: ReadonlyMap<Tensor, S>,
  slots: (st: S) => [string, Tensor | null][],
): { params: { index: number; step: number }[]; tensors: Map<string, Tensor> } {
  const tensors = new Map<string, Tensor>();
  const out: { index: number; step: number }[] = [];
  params.forEach((p, index) => {
    const st = state.get(p);
    if (!st) return;
    out.push({ index, step: st.step });
    for (const [slot, t] of slots(st)) if (t) tensors.set(`${index}.${slot}`, t);
  });
  return { params: out, tensors };
}
