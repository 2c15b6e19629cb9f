// `method freeze` (LLaMA-Factory's finetuning_type=freeze): train the last N decoder layers (the first
// |N| when N < 0), optionally only some modules inside them, plus named modules outside the layers
// (embed_tokens, norm, lm_head). Trained parameters stored in half precision are widened to f32, the
// rest of the model stays as loaded.
import { err, ok, type Result } from "neverthrow";
import { type CausalLM, didYouMean, type MethodEntry, MethodError, type MethodPayload, type OptionSchema, suggest, Tensor } from "../../core/index.ts";
import { checkOptions } from "./check-options.ts";
import { freezeMemory } from "./plan-memory.ts";
import { adapterProblem, loadWholeModel, WholeModelMethod } from "./whole-model.ts";

export const freezeOptions = {
  layers: { type: "number", integer: true, default: 2, doc: "trainable decoder layers: the last N, or the first |N| when negative (not 0)" },
  modules: {
    type: "list",
    item: { type: "string" },
    minLength: 1,
    default: ["all"],
    doc: "modules trained inside those layers (self_attn, mlp, q_proj, ...); all: the whole layer",
  },
  extra_modules: { type: "list", item: { type: "string" }, default: [], doc: "modules outside the layers also trained (embed_tokens, norm, lm_head)" },
} satisfies OptionSchema;

const LAYER = /^model\.layers\.(\d+)\.(.+)$/;

/** `name` names a module on the dotted path `path` (a whole component sequence, not a substring). */
function onPath(path: string, name: string): boolean {
  return `.${path}.`.includes(`.${name}.`);
}

/** Module names along parameter paths (the parameter's own name dropped). */
function moduleNames(paths: readonly string[]): Set<string> {
  return new Set(paths.flatMap((p) => p.split(".").slice(0, -1)).filter((c) => !/^\d+$/.test(c)));
}

/** The layer indices LLaMA-Factory's freeze_trainable_layers selects. */
export function trainableLayerIds(numLayers: number, n: number): number[] {
  const [from, to] = n > 0 ? [Math.max(0, numLayers - n), numLayers] : [0, Math.min(-n, numLayers)];
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Parameter paths the options make trainable, or every problem with them. */
export function freezeSelection(
  model: CausalLM,
  o: { layers: number; modules: readonly string[]; extra_modules: readonly string[] },
): Result<string[], string[]> {
  const problems: string[] = [];
  if (o.layers === 0) problems.push('option "layers" must not be 0 (N > 0: the last N layers; N < 0: the first |N|)');
  const paths = model.namedSlots("", false).map(([p]) => p);
  const inLayers = paths.map((p) => LAYER.exec(p)).filter((m) => m !== null);
  const outside = paths.filter((p) => !LAYER.test(p));
  const layerRel = inLayers.map((m) => m[2]!);
  const all = o.modules.includes("all");
  for (const name of o.modules) {
    if (name !== "all" && !layerRel.some((rel) => onPath(rel, name)))
      problems.push(
        `no module "${name}" in the decoder layers${didYouMean(suggest(name, moduleNames(layerRel)))}; known: all, ${[...moduleNames(layerRel)].sort().join(", ")}`,
      );
  }
  for (const name of o.extra_modules) {
    if (!outside.some((p) => onPath(p, name)))
      problems.push(
        `no module "${name}" outside the decoder layers${didYouMean(suggest(name, moduleNames(outside)))}; known: ${[...moduleNames(outside)]
          .filter((n) => n !== "model")
          .sort()
          .join(", ")}`,
      );
  }
  if (problems.length > 0) return err(problems);
  const ids = new Set(trainableLayerIds(model.spec.numLayers, o.layers));
  const chosen = paths.filter((p) => {
    const m = LAYER.exec(p);
    if (m) return ids.has(Number(m[1])) && (all || o.modules.some((name) => onPath(m[2]!, name)));
    return o.extra_modules.some((name) => onPath(p, name));
  });
  return ok(chosen);
}

/** Freezes `model` except the parameters at `paths`; half-precision ones among them are widened to f32 (trained in f32). */
export function trainOnlyPaths(model: CausalLM, paths: readonly string[]): void {
  const train = new Set(paths);
  model.freeze();
  for (const path of train) {
    const t = model.getParameter(path);
    if (!t || t.dtype === "f32") continue;
    const wide = Tensor.alloc(t.backend, t.shape, "f32");
    t.backend.cast(wide, t);
    model.setParameter(path, wide)._unsafeUnwrap();
  }
  model.unfreeze((p) => train.has(p))._unsafeUnwrap();
}

export const freeze: MethodEntry & MethodPayload = {
  name: "freeze",
  doc: "train the last N decoder layers (or named modules) and freeze the rest",
  options: freezeOptions,
  apply(model, options): Result<WholeModelMethod, MethodError> {
    const checked = checkOptions(freezeOptions, options, "freeze");
    if (checked.isErr()) return err(checked.error);
    const busy = adapterProblem(model, "freeze");
    if (busy) return err(busy);
    const chosen = freezeSelection(model, checked.value);
    if (chosen.isErr()) return err(new MethodError(`method "freeze": ${chosen.error.join("; ")}`, chosen.error));
    trainOnlyPaths(model, chosen.value);
    return ok(new WholeModelMethod("freeze", model));
  },
  load: (model, dir, _family, ctx) => loadWholeModel("freeze", model, dir, ctx),
  memory(input) {
    const checked = checkOptions(freezeOptions, input.options, "freeze");
    return checked.isErr() ? err(checked.error) : freezeMemory({ ...input, options: checked.value });
  },
};
