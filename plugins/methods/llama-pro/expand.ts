// LLaMA Pro's block expansion (LLaMA-Factory's scripts/llama_pro.py, after TencentARC's LLaMA-Pro):
// with L layers and N new blocks, after every k-th layer (k = L / N) a copy of that layer is inserted
// whose o_proj and down_proj are zero, so the copy adds nothing to the residual stream and the expanded
// model computes the same function. The expanded model is built by the model's own family from its
// config.json with num_hidden_layers = L + N (lists with one entry per layer, like layer_types, are
// expanded the same way), and filled by weight name: originals are moved over, copies are cloned.
import { err, ok, type Result } from "neverthrow";
import { type CausalLM, full, type HfConfig, MethodError, type ModelFamily, type ParamSlot, Tensor } from "../../../core/index.ts";

const LAYER = /^model\.layers\.(\d+)\.(.+)$/;

/** Zeroed in each copy, as llama_pro.py does (any tensor whose name contains one of these). */
export const ZEROED = ["o_proj", "down_proj"] as const;

/** One layer of the expanded model: the original layer it comes from, and whether it is an inserted copy. */
export interface ExpandedLayer {
  readonly source: number;
  readonly copy: boolean;
}

/** The expanded layer order for L layers and N new blocks, or why N does not fit L. */
export function expansionPlan(numLayers: number, expand: number): Result<ExpandedLayer[], string> {
  if (!Number.isInteger(expand) || expand < 1) return err(`expand must be a positive whole number of new blocks, got ${expand}`);
  if (numLayers % expand !== 0)
    return err(
      `the model has ${numLayers} decoder layers, which ${expand} does not divide (LLaMA Pro inserts one copy after every ${numLayers}/${expand} layers)`,
    );
  const split = numLayers / expand;
  const plan: ExpandedLayer[] = [];
  for (let i = 0; i < numLayers; i++) {
    plan.push({ source: i, copy: false });
    if ((i + 1) % split === 0) plan.push({ source: i, copy: true });
  }
  return ok(plan);
}

/** Indices of the inserted blocks in a model already expanded to L' layers with N new ones (LLaMA-Factory's stride rule). */
export function expandedBlockIds(numLayers: number, expand: number): Result<number[], string> {
  if (!Number.isInteger(expand) || expand < 1) return err(`expand must be a positive whole number of new blocks, got ${expand}`);
  if (numLayers % expand !== 0) return err(`the model has ${numLayers} decoder layers, which ${expand} does not divide`);
  const stride = numLayers / expand;
  return ok(Array.from({ length: expand }, (_, i) => (i + 1) * stride - 1));
}

/** config.json of the expanded model: num_hidden_layers raised, per-layer lists expanded along the plan. */
export function expandedConfig(config: HfConfig, plan: readonly ExpandedLayer[], numLayers: number): HfConfig {
  const out: Record<string, unknown> = { ...config, num_hidden_layers: plan.length };
  for (const [key, value] of Object.entries(config)) {
    if (Array.isArray(value) && value.length === numLayers) out[key] = plan.map((p) => value[p.source]);
  }
  return out as HfConfig;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Per-layer spec fields (arrays with one entry per layer) that differ between a copy and its source. */
function perLayerDifferences(before: object, after: object, plan: readonly ExpandedLayer[]): string[] {
  const problems: string[] = [];
  const old = before as Record<string, unknown>;
  const now = after as Record<string, unknown>;
  const numLayers = plan.length - plan.filter((p) => p.copy).length;
  for (const [key, value] of Object.entries(old)) {
    if (!Array.isArray(value) || value.length !== numLayers) continue;
    const grown = now[key];
    if (!Array.isArray(grown) || grown.length !== plan.length) continue;
    plan.forEach((p, j) => {
      if (!sameValue(grown[j], value[p.source]))
        problems.push(`layer ${j} (from layer ${p.source}) would get ${key} ${JSON.stringify(grown[j])}, not ${JSON.stringify(value[p.source])}`);
    });
  }
  return problems;
}

function copyOf(t: Tensor, zero: boolean): Tensor {
  if (zero) return full(t.shape, 0, { dtype: t.dtype, backend: t.backend });
  const c = Tensor.alloc(t.backend, t.shape, t.dtype);
  t.backend.copy(c, t);
  return c;
}

export interface Expansion {
  readonly model: CausalLM;
  /** Indices of the inserted blocks in the expanded model. */
  readonly newLayers: readonly number[];
}

/**
 * Builds the expanded model and fills it from `model`. On success `model`'s tensors have moved into the
 * expanded model (its slots are empty; dispose it); on failure `model` is untouched.
 */
export function expandModel(model: CausalLM, family: ModelFamily, expand: number): Result<Expansion, MethodError> {
  const L = model.spec.numLayers;
  const planned = expansionPlan(L, expand);
  if (planned.isErr()) return err(new MethodError(`method "llama_pro": ${planned.error}`));
  const plan = planned.value;
  const slots = new Map(model.namedSlots("", false));
  const layerPaths = [...slots.keys()].filter((p) => LAYER.test(p));
  if (layerPaths.length === 0)
    return err(new MethodError(`method "llama_pro": the model has no weights named model.layers.<i>.*; block expansion needs llama-style layers`));
  const layerRel = new Set(layerPaths.map((p) => LAYER.exec(p)![2]!));
  const missing = ZEROED.filter((z) => ![...layerRel].some((rel) => rel.includes(z)));
  if (missing.length > 0)
    return err(
      new MethodError(
        `method "llama_pro": the decoder layers have no ${missing.join(" or ")} weights, so a copied block cannot be zero-initialised to leave the model's output unchanged (family "${family.name}")`,
      ),
    );
  const spec = family.fromConfig(expandedConfig(model.spec.config, plan, L), "the expanded config.json");
  if (spec.isErr()) return err(new MethodError(`method "llama_pro": ${spec.error.message}`));
  const differences = perLayerDifferences(model.spec, spec.value, plan);
  if (differences.length > 0)
    return err(
      new MethodError(
        `method "llama_pro": family "${family.name}" sets layers up by their index, so inserted copies would not match their source: ${differences.slice(0, 3).join("; ")}${differences.length > 3 ? "; ..." : ""} (a config.json that lists each layer's kind, e.g. layer_types, can be expanded)`,
        differences,
      ),
    );
  const grown = family.build(spec.value);
  const targets = grown.namedSlots("", false);
  // Every tensor of the expanded model must have a source before anything moves.
  const sourceOf = (path: string): { slot: ParamSlot | undefined; copy: boolean; zero: boolean } => {
    const m = LAYER.exec(path);
    if (!m) return { slot: slots.get(path), copy: false, zero: false };
    const p = plan[Number(m[1])]!;
    return { slot: slots.get(`model.layers.${p.source}.${m[2]}`), copy: p.copy, zero: p.copy && ZEROED.some((z) => m[2]!.includes(z)) };
  };
  const unmatched = targets.filter(([path]) => !sourceOf(path).slot?.tensor).map(([p]) => p);
  if (unmatched.length > 0) {
    grown.dispose();
    return err(
      new MethodError(`method "llama_pro": no source weight for ${unmatched.slice(0, 3).join(", ")}${unmatched.length > 3 ? ", ..." : ""}`, unmatched),
    );
  }
  // Copies first (their sources still sit in `model`), then the originals move.
  for (const [path] of targets) {
    const s = sourceOf(path);
    if (s.copy) grown.setParameter(path, copyOf(s.slot!.tensor!, s.zero))._unsafeUnwrap();
  }
  for (const [path] of targets) {
    const s = sourceOf(path);
    if (s.copy) continue;
    grown.setParameter(path, s.slot!.tensor!)._unsafeUnwrap();
    s.slot!.tensor = null;
  }
  grown.gradientCheckpointing = model.gradientCheckpointing;
  return ok({ model: grown, newLayers: plan.flatMap((p, j) => (p.copy ? [j] : [])) });
}
