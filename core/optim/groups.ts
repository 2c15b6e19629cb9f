// Parameter groups: which trainable tensors share a learning-rate multiplier and a weight decay.
// Norm weights and biases get no decay by default (as HF's Trainer); rules (LoRA+'s B matrices,
// an embedding trained at a lower rate) pick out tensors by name and set their own values.
import { err, ok, type Result } from "neverthrow";
import type { Tensor } from "../tensor/tensor.ts";

/** One group as an optimizer sees it: `lr = optimizer.lr * lrScale`. */
export interface ParamGroup {
  readonly name: string;
  readonly params: readonly Tensor[];
  /** Names of `params`, same order (checkpoint keys and messages). */
  readonly names: readonly string[];
  readonly lrScale: number;
  readonly weightDecay: number;
}

/** A group given by hand: only `params` is required. */
export interface ParamGroupInput {
  readonly name?: string;
  readonly params: readonly Tensor[];
  readonly names?: readonly string[];
  readonly lrScale?: number;
  readonly weightDecay?: number;
}

/** Selects tensors by name; the first matching rule decides a tensor's group. */
export interface GroupRule {
  readonly name: string;
  match(name: string, t: Tensor): boolean;
  readonly lrScale?: number;
  /** Overrides both the base decay and the no-decay exclusion. */
  readonly weightDecay?: number;
}

export type NoDecay = (name: string, t: Tensor) => boolean;

/** Biases and norm weights (any 1-D tensor, or a name containing "norm" or "bias"). */
export const defaultNoDecay: NoDecay = (name, t) => t.ndim < 2 || /norm|bias/i.test(name);

export interface GroupOptions {
  weightDecay: number;
  noDecay?: NoDecay;
  rules?: readonly GroupRule[];
}

/** Splits named parameters into groups; tensors with the same (rule, decay) share one, in name order of first appearance. */
export function buildGroups(named: Readonly<Record<string, Tensor>>, o: GroupOptions): Result<ParamGroup[], Error> {
  const noDecay = o.noDecay ?? defaultNoDecay;
  const groups = new Map<string, { name: string; params: Tensor[]; names: string[]; lrScale: number; weightDecay: number }>();
  const entries = Object.entries(named);
  if (entries.length === 0) return err(new Error("train: no trainable parameters were given (the method marked nothing trainable?)"));
  for (const [name, t] of entries) {
    if (!t.requiresGrad) return err(new Error(`train: parameter "${name}" ${t} does not require a gradient; mark it trainable or leave it out of params`));
    if (t.dtype !== "f32")
      return err(new Error(`train: parameter "${name}" is ${t.dtype}; trainable parameters must be f32 master weights (cast frozen ones, train f32 copies)`));
    const rule = o.rules?.find((r) => r.match(name, t));
    const lrScale = rule?.lrScale ?? 1;
    if (!(lrScale >= 0 && Number.isFinite(lrScale)))
      return err(new Error(`train: group rule "${rule?.name}" has lrScale ${lrScale}; expected a finite number >= 0`));
    const excluded = noDecay(name, t);
    const weightDecay = rule?.weightDecay ?? (excluded ? 0 : o.weightDecay);
    if (!(weightDecay >= 0 && Number.isFinite(weightDecay)))
      return err(new Error(`train: weight decay for "${name}" is ${weightDecay}; expected a finite number >= 0`));
    const label = `${rule?.name ?? "default"}${weightDecay === 0 && o.weightDecay !== 0 && rule?.weightDecay === undefined ? "/no_decay" : ""}`;
    const key = `${label}|${lrScale}|${weightDecay}`;
    let g = groups.get(key);
    if (!g) {
      g = { name: label, params: [], names: [], lrScale, weightDecay };
      groups.set(key, g);
    }
    g.params.push(t);
    g.names.push(name);
  }
  return ok([...groups.values()]);
}

/** Normalises hand-given groups (or a plain tensor list, one group) with the optimizer's defaults. */
export function normaliseGroups(input: readonly Tensor[] | readonly ParamGroupInput[], defaultDecay: number): ParamGroup[] {
  const isGroups = input.length > 0 && !("shape" in (input[0] as object));
  const list: readonly ParamGroupInput[] = isGroups ? (input as readonly ParamGroupInput[]) : [{ params: input as readonly Tensor[] }];
  return list.map((g, gi) => ({
    name: g.name ?? `group${gi}`,
    params: g.params,
    names: g.names ?? g.params.map((p, i) => p.name ?? `group${gi}.${i}`),
    lrScale: g.lrScale ?? 1,
    weightDecay: g.weightDecay ?? defaultDecay,
  }));
}
