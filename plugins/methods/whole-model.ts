// What `full` and `freeze` share: the model itself is the trained result, so saving writes a complete
// Hugging Face checkpoint and merging has nothing to fold.
import { err, ok, type Result } from "neverthrow";
import {
  type AppliedMethod,
  type CausalLM,
  countElements,
  type GroupRule,
  type LoadContext,
  MethodError,
  openCheckpoint,
  saveModel,
  type Tensor,
} from "../../core/index.ts";

export class WholeModelMethod implements AppliedMethod {
  readonly groups: readonly GroupRule[] = [];
  training = true;
  constructor(
    readonly method: string,
    readonly model: CausalLM,
  ) {}

  get params(): Readonly<Record<string, Tensor>> {
    return Object.fromEntries(this.model.trainableParameters());
  }

  get counts(): { trainable: number; total: number } {
    return { trainable: countElements(Object.values(this.params)), total: countElements(this.model.parameters()) };
  }

  /** Nothing here draws random numbers. */
  beginForward(): void {}

  saveTrainable(dir: string): Result<string[], MethodError> {
    const saved = saveModel(this.model, dir);
    return saved.isErr() ? err(new MethodError(`method "${this.method}": saving to ${dir}: ${saved.error.message}`)) : ok(saved.value.files);
  }

  merge(): Result<void, MethodError> {
    return ok(undefined);
  }
}

/** A refusal when a LoRA-style method already wrapped layers of this model. */
export function adapterProblem(model: CausalLM, method: string): MethodError | null {
  const wrapped = model.namedModules().find(([, m]) => (m as { adapter?: unknown }).adapter);
  return wrapped ? new MethodError(`method "${method}": ${wrapped[0]} carries an adapter; merge it or load a fresh base first`) : null;
}

/** Reads a checkpoint `saveTrainable` wrote into the model (each tensor in the dtype it has now). */
export function loadWholeModel(method: string, model: CausalLM, dir: string, ctx: LoadContext = {}): Result<WholeModelMethod, MethodError> {
  const opened = openCheckpoint(dir);
  if (opened.isErr()) return err(new MethodError(opened.error.message));
  const ckpt = opened.value;
  try {
    const slots = model.namedSlots("", false);
    const problems: string[] = [];
    for (const [path, slot] of slots) {
      const info = ckpt.info(path);
      if (info.isErr()) problems.push(`missing tensor "${path}"`);
      else if (info.value.shape.join(",") !== slot.shape.join(","))
        problems.push(`"${path}" is [${info.value.shape.join(", ")}], expected [${slot.shape.join(", ")}]`);
    }
    if (problems.length > 0)
      return err(new MethodError(`${dir}: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? `; … and ${problems.length - 5} more` : ""}`, problems));
    for (const [path, slot] of slots) {
      const dtype = slot.tensor?.dtype === "bf16" || slot.tensor?.dtype === "f16" ? slot.tensor.dtype : "f32";
      const t = ckpt.tensor(path, { dtype, backend: slot.tensor?.backend });
      if (t.isErr()) return err(new MethodError(t.error.message));
      model.setParameter(path, t.value)._unsafeUnwrap();
    }
    const m = new WholeModelMethod(method, model);
    if (!ctx.trainable) {
      model.freeze();
      m.training = false;
    }
    return ok(m);
  } finally {
    ckpt.close();
  }
}
