// Writes a LoRA method's result in PEFT's exact layout, so `PeftModel.from_pretrained(base, dir)` (and
// vLLM, llama.cpp's converter, ...) read it:
//   adapter_config.json        json.dumps(LoraConfig.to_dict(), indent=2, sort_keys=True)
//   adapter_model.safetensors  metadata {"format": "pt"}; keys as get_peft_model_state_dict leaves them:
//     base_model.model.<layer path>.lora_A.weight           [r, in]
//     base_model.model.<layer path>.lora_B.weight           [out, r]
//     base_model.model.<layer path>.lora_magnitude_vector   [out]   (DoRA; no ".weight": PEFT strips it)
//     base_model.model.<module path>.<param>                        (modules_to_save, the trained copy)
// A PiSSA adapter is rewritten against the original base (PEFT's path_initial_model_for_weight_conversion):
// B·A − B₀·A₀ = [B | −B₀]·[A ; A₀] at rank 2r with alpha doubled (√2·alpha with rsLoRA), so the
// folder applies to the untouched base checkpoint.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { MethodError, type Module, type SafetensorsEntry, type Tensor, tensor, writeFileAtomic, writeSafetensors } from "../../../core/index.ts";
import type { LoraLinear } from "./lora-linear.ts";
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, PEFT_PREFIX, peftKey } from "./peft-layout.ts";
import { PyFloat, type PyValue, pyJsonDumps } from "./py-json.ts";
import type { LoraSettings } from "./settings.ts";

/** What an adapter folder is written from (a LoraMethod is one). */
export interface PeftAdapterSource {
  readonly settings: LoraSettings;
  /** Adapted layers by module path, in model order. */
  readonly adapters: ReadonlyMap<string, LoraLinear>;
  /** Modules trained fully (modules_to_save), by module path. */
  readonly additional: ReadonlyMap<string, Module>;
  /** `base_model_name_or_path`. */
  readonly baseModel: string | null;
}

/** Whether a layer's adapter is saved in PiSSA's converted (rank 2r) form. */
function converted(m: PeftAdapterSource): boolean {
  return [...m.adapters.values()].some((l) => l.pissaInitial !== null);
}

/** adapter_config.json's fields, as a LoraConfig of PEFT ≥ 0.10 serialises them (no newer-only keys, so older PEFT reads it too). */
export function adapterConfig(m: PeftAdapterSource): Record<string, PyValue> {
  const s = m.settings;
  const pissa = converted(m);
  const targets: PyValue = s.targetPattern ?? [...new Set(s.targets)].sort();
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: m.baseModel,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: s.init === "gaussian" ? "gaussian" : true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: pissa ? (s.rslora ? Math.SQRT2 * s.alpha : 2 * s.alpha) : s.alpha,
    lora_dropout: new PyFloat(s.dropout),
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: s.additionalTargets.length > 0 ? [...s.additionalTargets] : null,
    peft_type: "LORA",
    r: pissa ? 2 * s.rank : s.rank,
    rank_pattern: {},
    revision: null,
    target_modules: targets,
    task_type: "CAUSAL_LM",
    use_dora: s.dora,
    use_rslora: s.rslora,
  };
}

/** A and B as saved: live tensors, or PiSSA's [A ; A₀] and [B | −B₀] as fresh ones (listed in `made`). */
function savedFactors(m: PeftAdapterSource, path: string, made: Tensor[]): [Tensor, Tensor] {
  const lora = m.adapters.get(path)!;
  const a = lora.lora_A.weight;
  const b = lora.lora_B.weight;
  const init = lora.pissaInitial;
  if (!init) return [a, b];
  const [r, inF, out] = [lora.cfg.rank, lora.base.inFeatures, lora.base.outFeatures];
  const a2 = new Float32Array(2 * r * inF);
  a2.set(a.toArray() as Float32Array, 0);
  a2.set(init.a, r * inF);
  const bv = b.toArray();
  const b2 = new Float32Array(out * 2 * r);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < r; i++) {
      b2[o * 2 * r + i] = bv[o * r + i]!;
      b2[o * 2 * r + r + i] = -init.b[o * r + i]!;
    }
  }
  const ta = tensor(a2, [2 * r, inF], { backend: a.backend });
  const tb = tensor(b2, [out, 2 * r], { backend: b.backend });
  made.push(ta, tb);
  return [ta, tb];
}

/** The adapter's tensors under their saved names. */
export function adapterEntries(m: PeftAdapterSource, made: Tensor[]): SafetensorsEntry[] {
  const entries: SafetensorsEntry[] = [];
  const pissa = converted(m);
  for (const [path, lora] of m.adapters) {
    const [a, b] = pissa ? savedFactors(m, path, made) : [lora.lora_A.weight, lora.lora_B.weight];
    entries.push({ name: peftKey(path, "lora_A.weight"), data: a }, { name: peftKey(path, "lora_B.weight"), data: b });
    const mag = lora.magnitudeVector;
    if (mag) entries.push({ name: peftKey(path, "lora_magnitude_vector"), data: mag });
  }
  for (const [path, module] of m.additional) {
    for (const [name, t] of module.namedParameters()) entries.push({ name: `${PEFT_PREFIX}${path}.${name}`, data: t });
  }
  return entries;
}

export function writePeftAdapter(m: PeftAdapterSource, dir: string): Result<string[], MethodError> {
  const made: Tensor[] = [];
  try {
    mkdirSync(dir, { recursive: true });
    const weights = join(dir, ADAPTER_WEIGHTS);
    const written = writeSafetensors(weights, adapterEntries(m, made), { format: "pt" });
    if (written.isErr()) return err(new MethodError(`saving the adapter: ${written.error.message}`));
    const configPath = join(dir, ADAPTER_CONFIG);
    const text = new TextEncoder().encode(pyJsonDumps(adapterConfig(m)));
    const cfg = writeFileAtomic(configPath, (put) => put(text));
    if (cfg.isErr()) return err(new MethodError(`saving the adapter: ${cfg.error.message}`));
    return ok([configPath, weights]);
  } catch (e) {
    return err(new MethodError(`saving the adapter to ${dir}: ${(e as Error).message}`));
  } finally {
    for (const t of made) t.dispose();
  }
}
