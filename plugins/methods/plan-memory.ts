// The methods' memory formulas (MethodEntry.memory, core/plan): from the family's weight list and the
// method's options alone, which base weights stay frozen and in what storage, which f32 tensors train,
// and which block linears keep their input for backward. Each method's entry wires its own formula.
import { err, ok, type Result } from "neverthrow";
import {
  type MemoryPart,
  type MethodMemory,
  type MethodMemoryInput,
  numel,
  type PlanLinearUse,
  type PlanParam,
  type PlanWeightDType,
  sizeClass,
} from "../../core/index.ts";

const LAYER = /^model\.layers\.(\d+)\.(.+)$/;
const BLOCK_LINEARS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

const dtypeBytes: Record<PlanWeightDType, number> = { f32: 4, bf16: 2, f16: 2 };

/** The linear module a weight belongs to (`q_proj`), or undefined. */
function linearOf(name: string): string | undefined {
  const m = /\.([a-z_]+_proj)\.weight$/.exec(name);
  return m?.[1];
}

/** Bytes of tensors stored in `dtype`, each rounded to the allocator's size class. */
export function storedBytes(params: readonly PlanParam[], dtype: PlanWeightDType): number {
  return params.reduce((n, p) => n + sizeClass(dtypeBytes[dtype] * numel(p.shape)), 0);
}

function frozenPart(params: readonly PlanParam[], dtype: PlanWeightDType): MemoryPart[] {
  if (params.length === 0) return [];
  return [{ name: "weights", bytes: storedBytes(params, dtype), detail: `${params.length} frozen tensors in ${dtype}` }];
}

/** `name` names module `module` on its dotted path (a whole component). */
function onPath(path: string, module: string): boolean {
  return `.${path}.`.includes(`.${module}.`);
}

/** The whole model trains (method full): every weight is an f32 trainable tensor. */
export function fullMemory(input: MethodMemoryInput): Result<MethodMemory, Error> {
  if (input.dtype !== "f32") return err(new Error(`method "full" trains f32 weights, but the model loads in ${input.dtype}: load it with dtype = f32`));
  return ok({
    frozen: [],
    trainable: input.weights,
    linears: BLOCK_LINEARS.map((module) => ({ module, weightTrainable: true, adapterRank: 0, adapterCopiesInput: false })),
    firstLayerWithGrad: 0,
    lmHeadTrainable: true,
  });
}

/** Some layers' (and modules') weights train; the rest stay frozen in the load dtype. */
export function partialMemory(input: MethodMemoryInput, trains: (name: string) => boolean): MethodMemory {
  const trainable = input.weights.filter((w) => trains(w.name));
  const frozen = input.weights.filter((w) => !trains(w.name));
  const layers = trainable.map((w) => LAYER.exec(w.name)).filter((m) => m !== null);
  const first = layers.length ? Math.min(...layers.map((m) => Number(m[1]))) : input.spec.numLayers;
  const outside = trainable.some((w) => !LAYER.test(w.name) && !/norm/.test(w.name));
  const modules = new Set(trainable.map((w) => linearOf(w.name)).filter((m) => m !== undefined));
  return {
    frozen: frozenPart(frozen, input.dtype),
    trainable,
    linears: [...modules].map((module) => ({ module, weightTrainable: true, adapterRank: 0, adapterCopiesInput: false })),
    // The embedding trains: gradients flow through every layer.
    firstLayerWithGrad: outside ? 0 : first,
    lmHeadTrainable: trainable.some((w) => w.name.startsWith("lm_head") || (input.spec.tieWordEmbeddings && w.name.includes("embed_tokens"))),
  };
}

/** Layer ids freeze's `layers` option selects (LLaMA-Factory's freeze_trainable_layers). */
export function selectedLayers(numLayers: number, n: number): Set<number> {
  const [from, to] = n > 0 ? [Math.max(0, numLayers - n), numLayers] : [0, Math.min(-n, numLayers)];
  return new Set(Array.from({ length: to - from }, (_, i) => from + i));
}

/** `method freeze`: the chosen modules of the last (or first) N layers, plus extra modules. */
export function freezeMemory(input: MethodMemoryInput): Result<MethodMemory, Error> {
  const o = input.options as { layers: number; modules: readonly string[]; extra_modules: readonly string[] };
  const ids = selectedLayers(input.spec.numLayers, o.layers);
  const all = o.modules.includes("all");
  return ok(
    partialMemory(input, (name) => {
      const m = LAYER.exec(name);
      if (m) return ids.has(Number(m[1])) && (all || o.modules.some((mod) => onPath(m[2]!, mod)));
      return o.extra_modules.some((mod) => onPath(name, mod));
    }),
  );
}

/** Adapter settings shared by LoRA and QLoRA. */
interface AdapterOptions {
  readonly rank: number;
  readonly dropout: number;
  readonly targets: readonly string[];
  readonly dora: boolean;
  readonly additional_target: readonly string[];
}

/**
 * LoRA (and DoRA, PiSSA, rsLoRA, LoRA+: same tensors): A [r, in] and B [out, r] per targeted linear
 * (DoRA adds a magnitude [out]); the base stays frozen in `base` (a part per storage format).
 */
export function adapterMemory(input: MethodMemoryInput, base: (frozen: readonly PlanParam[]) => MemoryPart[]): Result<MethodMemory, Error> {
  const o = input.options as unknown as AdapterOptions;
  const targets = o.targets.includes("all") ? new Set([...input.adapterTargets, ...o.targets.filter((t) => t !== "all")]) : new Set(o.targets);
  const adapters: PlanParam[] = [];
  const additional = input.weights.filter((w) => o.additional_target.some((mod) => onPath(w.name, mod)));
  for (const w of input.weights) {
    const mod = linearOf(w.name);
    if (!mod || !targets.has(mod) || w.shape.length !== 2) continue;
    const [out, inp] = w.shape as [number, number];
    const prefix = w.name.slice(0, -".weight".length);
    adapters.push({ name: `${prefix}.lora_A.weight`, shape: [o.rank, inp] }, { name: `${prefix}.lora_B.weight`, shape: [out, o.rank] });
    if (o.dora) adapters.push({ name: `${prefix}.lora_magnitude_vector`, shape: [out] });
  }
  if (adapters.length === 0) return err(new Error(`targets ${[...targets].join(", ")} match no linear layer of this model`));
  const frozen = input.weights.filter((w) => !additional.includes(w));
  const inBlocks = [...targets].filter((t) => BLOCK_LINEARS.includes(t));
  const linears: PlanLinearUse[] = inBlocks.map((module) => ({
    module,
    weightTrainable: false,
    adapterRank: o.rank,
    adapterCopiesInput: o.dropout > 0,
    dora: o.dora,
  }));
  return ok({
    frozen: base(frozen),
    trainable: [...adapters, ...additional],
    linears,
    firstLayerWithGrad: 0,
    lmHeadTrainable: targets.has("lm_head") || additional.some((w) => w.name.startsWith("lm_head")),
  });
}

export function loraMemory(input: MethodMemoryInput): Result<MethodMemory, Error> {
  return adapterMemory(input, (frozen) => frozenPart(frozen, input.dtype));
}

/** bitsandbytes' 4-bit layout: packed codes (2 per byte), and per 64-value block an absmax (f32, or u8 + per-256 f32 with double quantisation). */
export function quant4Bytes(elements: number, doubleQuant: boolean): { codes: number; scales: number } {
  const blocks = Math.ceil(elements / 64);
  const codes = sizeClass(Math.ceil(elements / 2)) + sizeClass(16 * 4);
  const scales = doubleQuant ? sizeClass(blocks) + sizeClass(4 * Math.ceil(blocks / 256)) + sizeClass(256 * 4) : sizeClass(4 * blocks);
  return { codes, scales };
}

/** QLoRA: LoRA's adapters over block linears stored as NF4/FP4 (+ scales) or int8 rows (+ a scale per row). */
export function qloraMemory(input: MethodMemoryInput): Result<MethodMemory, Error> {
  const q = input.options as { quant_type: string; double_quant: boolean };
  return adapterMemory(input, (frozen) => {
    const quantised = frozen.filter((w) => linearOf(w.name) !== undefined && !w.name.startsWith("lm_head"));
    const dense = frozen.filter((w) => !quantised.includes(w));
    let codes = 0;
    let scales = 0;
    for (const w of quantised) {
      const n = numel(w.shape);
      if (q.quant_type === "int8") {
        codes += sizeClass(n);
        scales += sizeClass(4 * w.shape[0]!);
      } else {
        const b = quant4Bytes(n, q.double_quant);
        codes += b.codes;
        scales += b.scales;
      }
    }
    return [
      ...frozenPart(dense, input.dtype),
      { name: `weights-${q.quant_type}`, bytes: codes, detail: `${quantised.length} linear weights as ${q.quant_type} codes` },
      {
        name: "quant-scales",
        bytes: scales,
        detail: q.quant_type === "int8" ? "one f32 scale per row" : `absmax per 64 values${q.double_quant ? ", double-quantised" : ", f32"}`,
      },
    ];
  });
}
