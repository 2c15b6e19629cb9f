// `lft import`'s methods, optimizers and stages: LLaMA-Factory's finetuning_type and its LoRA/freeze keys,
// quantization_* (method qlora), use_llama_pro, the use_* optimizer switches with their prefixed options,
// and the preference (pref_*, kto_*) and PPO (reward_model*, ppo_*) keys, each under lft's option names.
// Combinations LLaMA-Factory itself refuses are errors at the key.
import type { Block, Entry } from "../recipe";
import { block, bool, entry, num, str, word } from "./build";
import { options, type Reader } from "./lf-reader";

/** LLaMA-Factory's use_* switches for optimizers, and each one's option prefix and lft option names. */
export const OPTIMIZERS: readonly { flag: string; name: string; prefix?: string; options?: readonly string[] }[] = [
  { flag: "use_galore", name: "galore", prefix: "galore_", options: ["rank", "update_interval", "scale", "proj_type", "target", "layerwise"] },
  {
    flag: "use_apollo",
    name: "apollo",
    prefix: "apollo_",
    options: ["rank", "update_interval", "scale", "proj", "proj_type", "scale_type", "scale_front", "target", "layerwise"],
  },
  {
    flag: "use_badam",
    name: "badam",
    prefix: "badam_",
    options: ["mode", "start_block", "switch_mode", "switch_interval", "update_ratio", "mask_mode", "verbose"],
  },
  { flag: "use_adam_mini", name: "adam_mini" },
  { flag: "use_muon", name: "muon" },
];

/** Optimizers that LLaMA-Factory refuses to combine with LoRA (they act on the base weights). */
export const BASE_WEIGHT_OPTIMIZERS = new Set(["galore", "apollo", "badam"]);

export interface OptimizerChoice {
  readonly name: string;
  /** The use_* key that chose it. */
  readonly flag: string;
  readonly entries: readonly Entry[];
}

/** The optimizer a use_* switch chooses, with its options; two switches, or one LoRA cannot take, are errors. */
export function optimizerChoice(r: Reader): OptimizerChoice | undefined {
  const type = r.values.get("finetuning_type")?.value ?? "lora";
  let chosen: OptimizerChoice | undefined;
  for (const o of OPTIMIZERS) {
    const on = r.flag(o.flag);
    const keys = o.prefix === undefined ? [] : (o.options ?? []).map((x) => [`${o.prefix}${x}`, x] as const);
    if (!on) {
      for (const [key] of keys) if (r.has(key)) r.warn(key, `${o.flag} is not set, so the ${o.name} optimizer is not used; not carried over`);
      continue;
    }
    if (chosen !== undefined) {
      r.fail(o.flag, `${chosen.flag} already chose the ${chosen.name} optimizer; a run uses one optimizer (LLaMA-Factory refuses this too)`);
      continue;
    }
    if (type === "lora" && BASE_WEIGHT_OPTIMIZERS.has(o.name)) {
      r.fail(
        o.flag,
        `${o.name} optimizes the base weights and cannot be combined with finetuning_type lora (LLaMA-Factory refuses this too); use finetuning_type full or freeze`,
      );
      continue;
    }
    chosen = { name: o.name, flag: o.flag, entries: options(r, Object.fromEntries(keys)) };
  }
  return chosen;
}

export const LORA_OPTIONS: Readonly<Record<string, string>> = {
  lora_rank: "rank",
  lora_alpha: "alpha",
  lora_dropout: "dropout",
  lora_target: "targets",
  use_rslora: "rslora",
  use_dora: "dora",
  loraplus_lr_ratio: "loraplus_lr_ratio",
  additional_target: "additional_target",
};

/** LoRA-only keys that LLaMA-Factory refuses with another finetuning_type. */
export const LORA_ONLY = ["loraplus_lr_ratio", "use_rslora", "use_dora", "pissa_init"];

export function methodBlock(r: Reader): Block {
  const type = r.string("finetuning_type") ?? "lora";
  if (type !== "lora") {
    for (const key of LORA_ONLY) if (r.has(key) && r.values.get(key)?.value !== false) r.fail(key, `only valid with finetuning_type lora, not ${type}`);
    if (r.has("quantization_bit"))
      r.fail("quantization_bit", `quantised training is QLoRA: it needs finetuning_type lora, not ${type} (lft keeps weights that train in f32)`);
  }
  if (r.flag("use_llama_pro")) return llamaProBlock(r, type);
  if (type === "lora") {
    const bits = r.number("quantization_bit");
    const entries = options(r, LORA_OPTIONS);
    // LLaMA-Factory's lora_alpha defaults to 2 × lora_rank (lft's alpha to 16): written out.
    if (!entries.some((e) => e.key === "alpha")) {
      const rank = entries.find((e) => e.key === "rank")?.value;
      const r8 = rank !== undefined && rank.kind === "number" ? rank.value : 8;
      const at = entries.findIndex((e) => e.key === "rank") + 1;
      entries.splice(at, 0, entry("alpha", num(2 * r8)));
    }
    if (r.flag("pissa_init")) {
      if (bits !== undefined)
        r.fail("pissa_init", "PiSSA cannot start from a quantised model's weights (LLaMA-Factory refuses this too); drop quantization_bit or pissa_init");
      entries.push(entry("init", word("pissa")));
    }
    // lft saves a PiSSA adapter converted (rank 2r, applying to the original base), as pissa_convert asks.
    if (r.has("pissa_convert") && !r.flag("pissa_convert"))
      r.warn("pissa_convert", "lft always saves PiSSA adapters converted, to apply to the original base; not carried over");
    const iters = r.number("pissa_iter");
    if (iters !== undefined) entries.push(entry("pissa_iter", num(iters)));
    if (bits !== undefined) return block("method", { name: "qlora", entries: [...quantisation(r, bits), ...entries] });
    for (const key of ["quantization_type", "double_quantization", "quantization_method"])
      if (r.has(key)) r.warn(key, "quantization_bit is not set, so nothing is quantised; not carried over");
    return block("method", { name: "lora", entries });
  }
  if (type === "freeze") {
    return block("method", {
      name: "freeze",
      entries: options(r, { freeze_trainable_layers: "layers", freeze_trainable_modules: "modules", freeze_extra_modules: "extra_modules" }),
    });
  }
  return block("method", { name: type });
}

/** quantization_* → method qlora's quant_type (nf4, fp4, int8) and double_quant (LLaMA-Factory's 4-bit defaults written out: nf4, double). */
export function quantisation(r: Reader, bits: number): Entry[] {
  const how = r.string("quantization_method") ?? "bnb";
  if (how !== "bnb") r.fail("quantization_method", `lft quantises as bitsandbytes does (bnb); ${how} is not supported`);
  if (bits !== 4 && bits !== 8) {
    r.fail("quantization_bit", `lft's QLoRA quantises to 4 bits (nf4, fp4) or 8 bits (int8), not ${bits}`);
    return [];
  }
  if (bits === 8) {
    for (const key of ["quantization_type", "double_quantization"]) if (r.has(key)) r.warn(key, "applies to 4-bit quantisation only; not carried over");
    return [entry("quant_type", word("int8"))];
  }
  const type = r.string("quantization_type") ?? "nf4";
  if (type !== "nf4" && type !== "fp4") r.fail("quantization_type", `4-bit quantisation is nf4 or fp4, not ${type}`);
  const double = r.has("double_quantization") ? r.flag("double_quantization") : true;
  return [entry("quant_type", word(type)), entry("double_quant", bool(double))];
}

/** use_llama_pro: LLaMA-Factory trains the blocks scripts/llama_pro.py inserted (freeze_trainable_layers of them). */
export function llamaProBlock(r: Reader, type: string): Block {
  if (type !== "freeze") {
    r.fail(
      "use_llama_pro",
      type === "full"
        ? "LLaMA Pro trains only the inserted blocks; it is not valid with finetuning_type full (LLaMA-Factory refuses this too); use freeze"
        : `lft's llama_pro trains the inserted blocks whole (finetuning_type freeze); LoRA on the inserted blocks is not supported`,
    );
  }
  const entries: Entry[] = [];
  const n = r.number("freeze_trainable_layers") ?? 2;
  if (!Number.isInteger(n) || n < 1) r.fail("freeze_trainable_layers", `with use_llama_pro it counts the inserted blocks, a whole number >= 1, not ${n}`);
  entries.push(entry("expand", num(n)), entry("expanded", bool(true)));
  entries.push(...options(r, { freeze_trainable_modules: "modules", freeze_extra_modules: "extra_modules" }));
  return {
    ...block("method", { name: "llama_pro", entries }),
    comments: {
      leading: [
        "# model_name_or_path is the model LLaMA-Factory's scripts/llama_pro.py expanded (expanded = true).",
        "# To let lft insert the blocks itself, point the model at the original and remove expanded.",
      ],
      blankBefore: true,
    },
  };
}

/** Adds an option to the train block when the value is present. */
type AddOption = (key: string, value: ReturnType<typeof num> | undefined) => void;
/** A LLaMA-Factory number key as a recipe number, or undefined when absent. */
type NumberOption = (key: string) => ReturnType<typeof num> | undefined;

/** LLaMA-Factory's losses that lft's dpo stage has (its `pref_loss` choices less kto_pair). */
export const DPO_LOSSES = ["sigmoid", "hinge", "ipo", "orpo", "simpo", "bco_pair"];
export const NO_REFERENCE_EXTRAS =
  "lft loads ref_model as a plain frozen model folder (no adapters on it, no quantisation); merge the adapters into it first (lft export { merge = true }); not carried over";

/** The preference stages' keys (pref_*, dpo_*, simpo_*, kto_*, ref_model*) → the dpo/kto stage options. */
export function preferenceOptions(r: Reader, stage: string, entries: Entry[], add: AddOption, n: NumberOption): void {
  add("beta", n("pref_beta"));
  const loss = r.string("pref_loss");
  if (loss !== undefined) {
    if (stage === "dpo" && !DPO_LOSSES.includes(loss))
      r.warn("pref_loss", `lft's dpo losses are ${DPO_LOSSES.join(", ")}; ${loss} is not one (for KTO use stage kto); not carried over`);
    else add("loss", word(loss));
  }
  add("ftx", n("pref_ftx"));
  add("label_smoothing", n("dpo_label_smoothing"));
  add("simpo_gamma", n("simpo_gamma"));
  add("desirable_weight", n("kto_chosen_weight"));
  add("undesirable_weight", n("kto_rejected_weight"));
  const bco = r.number("pref_bco_weight");
  if (bco !== undefined && bco > 0) r.warn("pref_bco_weight", "lft does not mix a BCO loss into DPO; use loss = bco_pair for BCO on pairs; not carried over");
  const ref = r.string("ref_model");
  if (ref !== undefined) entries.push(entry("ref_model", str(ref)));
  for (const key of ["ref_model_adapters", "ref_model_quantization_bit"]) {
    const value = r.take(key);
    if (value !== undefined && value !== null) r.warn(key, NO_REFERENCE_EXTRAS);
  }
}

/** PPO's keys (reward_model*, ppo_*, the generation settings of its rollouts) → the ppo stage options. */
export function ppoOptions(r: Reader, stage: string, entries: Entry[], add: AddOption, n: NumberOption): void {
  if (stage !== "ppo") return;
  const reward = r.string("reward_model");
  if (reward !== undefined) entries.push(entry("reward_model", str(reward)));
  const type = r.string("reward_model_type");
  if (type === "lora" || type === "full") entries.push(entry("reward_model_type", word(type)));
  else if (type !== undefined)
    r.warn("reward_model_type", `lft's reward models are lora (an adapter on the shared base) or full (a model folder), not ${type}; not carried over`);
  for (const key of ["reward_model_adapters", "reward_model_quantization_bit"]) {
    const value = r.take(key);
    if (value !== undefined && value !== null) r.warn(key, "lft loads reward_model as written by train rm (adapter or model + value head); not carried over");
  }
  add("ppo_buffer_size", n("ppo_buffer_size"));
  add("ppo_epochs", n("ppo_epochs"));
  add("ppo_target", n("ppo_target"));
  if (r.has("ppo_score_norm")) add("ppo_score_norm", bool(r.flag("ppo_score_norm")));
  if (r.has("ppo_whiten_rewards")) add("ppo_whiten_rewards", bool(r.flag("ppo_whiten_rewards")));
  add("max_new_tokens", n("max_new_tokens"));
  add("temperature", n("temperature"));
  const topP = r.number("top_p");
  if (topP !== undefined) add("top_p", num(topP));
  add("top_k", n("top_k"));
}
