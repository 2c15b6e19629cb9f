// Quantising a model's linear layers for QLoRA: after load (quantizeLinears) or while loading, one tensor at a
// time (quantizeOnLoad, a core TensorTransform), so the model is never whole in f32. lm_head stays dense, as
// bitsandbytes' default skip list keeps it; embeddings and norms are not Linear layers and stay as they are.
import { err, ok, type Result } from "neverthrow";
import { type Backend, type CausalLM, Linear, type Module, ModuleError, type TensorTransform } from "../../../core/index.ts";
import type { Quant4Type } from "./codebooks.ts";
import { Int8Weight, Quant4Weight } from "./quantized-weight.ts";

export type QuantType = Quant4Type | "int8";
export const QUANT_TYPES: readonly QuantType[] = ["nf4", "fp4", "int8"];

export interface QuantizeSettings {
  readonly type: QuantType;
  /** 4-bit only: 8-bit double quantisation of the absmax scales. */
  readonly doubleQuant: boolean;
  /** Module paths kept dense (default ["lm_head"]). */
  readonly skip?: readonly string[];
}

function skipped(path: string, s: QuantizeSettings): boolean {
  return (s.skip ?? ["lm_head"]).some((k) => path === k || path.endsWith(`.${k}`));
}

/** Replaces one Linear's dense weight (values f32 [out, in]) by its quantised form. */
export function quantizeInto(linear: Linear, values: Float32Array, s: QuantizeSettings, backend: Backend): Result<void, ModuleError> {
  const [rows, cols] = [linear.outFeatures, linear.inFeatures];
  const w = s.type === "int8" ? Int8Weight.quantize(values, rows, cols, backend) : Quant4Weight.quantize(values, rows, cols, s.type, s.doubleQuant, backend);
  const set = linear.freezeWeight(w);
  if (set.isErr()) w.dispose();
  return set;
}

/** The linear layers a quantisation would replace, by path. */
export function quantizableLinears(model: Module, s: QuantizeSettings): [string, Linear][] {
  return model.namedModules().filter((e): e is [string, Linear] => e[1] instanceof Linear && !skipped(e[0], s));
}

/** Quantises every (non-skipped) Linear weight of a loaded model; returns how many. */
export function quantizeLinears(model: CausalLM, s: QuantizeSettings): Result<number, ModuleError> {
  const layers = quantizableLinears(model, s).filter(([, l]) => l.frozen === null);
  if (quantizableLinears(model, s).length === 0) return err(new ModuleError(`quantize = ${s.type}: the model has no linear layers to quantise`));
  for (const [path, linear] of layers) {
    // toArray gives f32 values whatever the storage (half weights are widened on the host)
    const values = linear.weight.toArray() as Float32Array;
    const done = quantizeInto(linear, values, s, linear.weight.backend);
    if (done.isErr()) return err(new ModuleError(`${path}: ${done.error.message}`));
  }
  return ok(layers.length);
}

/** The load hook: every Linear weight is quantised as it is read, then its f32 copy freed. */
export function quantizeOnLoad(s: QuantizeSettings): TensorTransform {
  return (path, t, model) => {
    if (!path.endsWith(".weight") || t.shape.length !== 2) return ok(false);
    const modPath = path.slice(0, -".weight".length);
    if (skipped(modPath, s)) return ok(false);
    const mod = model.namedModules().find(([p]) => p === modPath)?.[1];
    if (!(mod instanceof Linear)) return ok(false);
    const values = t.toArray() as Float32Array;
    const backend = t.backend;
    t.dispose();
    const done = quantizeInto(mod, values, s, backend);
    return done.isErr() ? err(new ModuleError(`${path}: ${done.error.message}`)) : ok(true);
  };
}
