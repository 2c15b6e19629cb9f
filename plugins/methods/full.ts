// `method full`: every parameter trains. Gradients and AdamW's moments are f32, so the weights must be
// f32 too: a model stored in bf16/f16 is refused with the fix (load it with dtype = f32).
import { err, ok, type Result } from "neverthrow";
import { type MethodEntry, MethodError, type MethodPayload, type OptionSchema } from "../../core/index.ts";
import { checkOptions } from "./check-options.ts";
import { fullMemory } from "./plan-memory.ts";
import { adapterProblem, loadWholeModel, WholeModelMethod } from "./whole-model.ts";

export const fullOptions = {} satisfies OptionSchema;

export const full: MethodEntry & MethodPayload = {
  name: "full",
  doc: "train every parameter (f32 weights)",
  options: fullOptions,
  apply(model, options): Result<WholeModelMethod, MethodError> {
    const checked = checkOptions(fullOptions, options, "full");
    if (checked.isErr()) return err(checked.error);
    const busy = adapterProblem(model, "full");
    if (busy) return err(busy);
    const half = model.namedParameters().filter(([, t]) => t.dtype !== "f32");
    if (half.length > 0) {
      const kinds = [...new Set(half.map(([, t]) => t.dtype))].join("/");
      const problems = half.map(([p, t]) => `${p} (${t.dtype})`);
      return err(
        new MethodError(
          `method "full" trains every parameter, and trained weights must be f32, but ${half.length} parameter(s) are stored in ${kinds} (${problems.slice(0, 3).join(", ")}${half.length > 3 ? ", ..." : ""}): load the model with dtype = f32, or use method freeze or lora to keep a half-precision base`,
          problems,
        ),
      );
    }
    model.unfreeze()._unsafeUnwrap();
    return ok(new WholeModelMethod("full", model));
  },
  load: (model, dir, _family, ctx) => loadWholeModel("full", model, dir, ctx),
  memory: fullMemory,
};
