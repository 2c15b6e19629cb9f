// `lft import config.yaml`: a LLaMA-Factory training config as a recipe. Every key is either carried
// into the recipe or reported with a warning saying why it was not, at its line in the YAML.
// Option names follow lft's conventions (method lora { rank, alpha, dropout, targets }, train dpo
// { beta, loss }), which the method and stage plugins declare in their schemas. LLaMA-Factory's
// memory-efficient optimizers (use_galore, use_apollo, use_badam, use_adam_mini, use_muon) become
// `optimizer = <name>` with their options flat in the train block; quantization_* becomes method qlora;
// use_llama_pro becomes method llama_pro. Combinations LLaMA-Factory itself refuses are errors at the key.

import { basename } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { isMap, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import { type Diagnostic, error, type Span } from "../diagnostics";
import { printRecipe } from "../printer";
import type { Block, Entry, Recipe, Statement } from "../recipe";
import { block, bool, entry, list, num, str, word } from "./build";

export interface Imported {
  readonly text: string;
  readonly recipe: Recipe;
  /** One per key that could not be carried over, at its place in the YAML. */
  readonly warnings: readonly Diagnostic[];
}

type Scalar = string | number | boolean | null;

/** Keys lft deliberately has no equivalent for, and why. */
const dropped: Readonly<Record<string, string>> = {
  trust_remote_code: "lft runs no model code from the hub; families are built in or come from plugins",
  deepspeed: "lft trains on one device",
  ddp_timeout: "lft trains on one device",
  ddp_find_unused_parameters: "lft trains on one device",
  preprocessing_num_workers: "lft's data worker has no worker-count setting",
  dataloader_num_workers: "lft's data worker has no worker-count setting",
  overwrite_cache: "lft keeps no preprocessed-dataset cache",
  overwrite_output_dir: "lft writes checkpoints atomically and never deletes an output directory",
  plot_loss: "every run's loss curve is in lft's run store and board",
  report_to: "runs are recorded in lft's run store",
  save_only_model: "lft checkpoints always hold what resuming needs",
  flash_attn: "lft's attention kernel is always the flash-style one",
  export_size: "shard size is chosen by the exporter",
  export_device: "the exporter runs where the session runs",
  export_legacy_format: "lft writes safetensors only",
};

class Reader {
  readonly warnings: Diagnostic[] = [];
  /** Combinations that cannot be imported, each at its key. */
  readonly errors: Diagnostic[] = [];
  readonly #used = new Set<string>();

  constructor(
    readonly values: ReadonlyMap<string, { value: Scalar; span: Span }>,
    readonly file: string,
  ) {}

  /** Marks a key as carried over and returns its value. */
  take(key: string): Scalar | undefined {
    const found = this.values.get(key);
    if (found === undefined) return undefined;
    this.#used.add(key);
    return found.value;
  }

  number(key: string): number | undefined {
    const value = this.take(key);
    if (value === undefined || value === null) return undefined;
    const n = typeof value === "number" ? value : Number(value);
    if (Number.isFinite(n)) return n;
    this.warn(key, `expected a number, found ${JSON.stringify(value)}; not carried over`);
    return undefined;
  }

  string(key: string): string | undefined {
    const value = this.take(key);
    return value === undefined || value === null ? undefined : String(value);
  }

  flag(key: string): boolean {
    const value = this.take(key);
    return value === true || value === "true";
  }

  warn(key: string, why: string): void {
    this.#used.add(key);
    const span = this.values.get(key)?.span;
    this.warnings.push({ ...error("semantic", this.file, span, `${key}: ${why}`), severity: "warning" });
  }

  /** An error at `key`'s line: the config cannot be imported as it stands. */
  fail(key: string, why: string): void {
    this.#used.add(key);
    this.errors.push(error("semantic", this.file, this.values.get(key)?.span, `${key}: ${why}`));
  }

  /** Whether the YAML sets `key` (a null value counts as unset). */
  has(key: string): boolean {
    const found = this.values.get(key);
    return found !== undefined && found.value !== null;
  }

  /** Warnings for every key nobody took. */
  leftovers(): void {
    for (const key of this.values.keys()) {
      if (this.#used.has(key)) continue;
      this.warn(key, dropped[key] ?? "not carried over: lft has no equivalent setting");
    }
  }
}

export function importLlamaFactory(yaml: string, file: string): Result<Imported, Diagnostic[]> {
  const lines = new LineCounter();
  const doc = parseDocument(yaml, { lineCounter: lines });
  const spanAt = (node: Node | null | undefined): Span | undefined => {
    const range = node?.range;
    if (range === undefined || range === null) return undefined;
    const { line, col } = lines.linePos(range[0]);
    return { line, col, offset: range[0], length: Math.max(1, range[1] - range[0]) };
  };
  if (doc.errors.length > 0) {
    return err(
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return error(
          "syntax",
          file,
          { line, col, offset: e.pos[0], length: Math.max(1, e.pos[1] - e.pos[0]) },
          e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
        );
      }),
    );
  }
  if (!isMap(doc.contents)) return err([error("semantic", file, undefined, "expected a YAML mapping of LLaMA-Factory arguments (key: value lines)")]);

  const values = new Map<string, { value: Scalar; span: Span }>();
  const problems: Diagnostic[] = [];
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const span = spanAt(pair.key as Node) ?? { line: 1, col: 1, offset: 0, length: 1 };
    if (key === undefined) continue;
    if (!isScalar(pair.value) && pair.value !== null) {
      problems.push(error("semantic", file, span, `${key}: expected a single value, as in LLaMA-Factory's own configs`));
      continue;
    }
    const value = pair.value === null ? null : (pair.value.value as Scalar);
    values.set(key, { value, span });
  }
  if (problems.length > 0) return err(problems);

  const r = new Reader(values, file);
  const path = r.string("model_name_or_path");
  if (path === undefined) return err([error("semantic", file, undefined, "model_name_or_path is missing: a recipe needs its base model")]);

  const optimizer = optimizerChoice(r);
  const method = methodBlock(r);
  const statements: Statement[] = [
    modelBlock(r, path, method.name?.text ?? "lora"),
    ...datasetBlocks(r),
    { ...method, comments: { ...method.comments, blankBefore: true } },
    trainBlock(r, optimizer),
    ...evalBlocks(r),
    ...exportBlocks(r),
  ];
  r.leftovers();
  if (r.errors.length > 0) return err(r.errors);
  const recipe: Recipe = {
    file,
    statements: statements.map((s, i) => (i === 0 ? { ...s, comments: { ...s.comments, leading: header(file) } } : s)),
    closing: [],
  };
  return ok({ text: printRecipe(recipe), recipe, warnings: r.warnings });
}

function header(file: string): string[] {
  const name = basename(file).replace(/\.ya?ml$/i, "");
  return [`# Imported from ${basename(file)} (a LLaMA-Factory config) by lft import.`, `# Run: ./lft ${name}.lft`, ""];
}

/** Methods that train full-precision copies of the base weights, which must then load in f32. */
const trainsBaseWeights = new Set(["full", "freeze", "llama_pro"]);

function modelBlock(r: Reader, path: string, method: string): Block {
  const entries: Entry[] = [];
  const template = r.string("template");
  if (template !== undefined) entries.push(entry("template", word(template)));
  const half = r.flag("pure_bf16") || r.flag("bf16") ? "bf16" : r.flag("fp16") ? "f16" : undefined;
  if (half !== undefined) {
    if (trainsBaseWeights.has(method)) {
      for (const key of ["bf16", "pure_bf16", "fp16"]) {
        if (r.values.has(key)) r.warn(key, `method ${method} trains the base weights, which lft keeps in f32; not carried over`);
      }
    } else entries.push(entry("dtype", word(half)));
  }
  const adapter = r.string("adapter_name_or_path");
  if (adapter !== undefined) entries.push(entry("adapter", str(adapter)));
  return block("model", { source: path, entries });
}

function datasetBlocks(r: Reader): Block[] {
  const names = splitList(r.string("dataset"));
  const dir = r.string("dataset_dir") ?? "data";
  const maxSamples = r.number("max_samples");
  const probs = splitList(r.string("interleave_probs")).map(Number);
  if (probs.length > 0 && probs.length !== names.length)
    r.warn("interleave_probs", `${probs.length} probabilities for ${names.length} datasets; not carried over`);
  const strategy = r.string("mix_strategy");
  if (strategy !== undefined && strategy !== "concat" && probs.length === 0)
    r.warn("mix_strategy", "without interleave_probs lft mixes sources by size; not carried over");
  return names.map((name, i) => {
    const entries = [entry("dir", str(dir))];
    if (maxSamples !== undefined) entries.push(entry("max_samples", num(maxSamples)));
    const p = probs.length === names.length ? probs[i] : undefined;
    if (p !== undefined && Number.isFinite(p)) entries.push(entry("weight", num(p)));
    return block("dataset", { source: name, entries, blankBefore: i === 0 });
  });
}

/** LLaMA-Factory's use_* switches for optimizers, and each one's option prefix and lft option names. */
const OPTIMIZERS: readonly { flag: string; name: string; prefix?: string; options?: readonly string[] }[] = [
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
const BASE_WEIGHT_OPTIMIZERS = new Set(["galore", "apollo", "badam"]);

interface OptimizerChoice {
  readonly name: string;
  /** The use_* key that chose it. */
  readonly flag: string;
  readonly entries: readonly Entry[];
}

/** The optimizer a use_* switch chooses, with its options; two switches, or one LoRA cannot take, are errors. */
function optimizerChoice(r: Reader): OptimizerChoice | undefined {
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

const LORA_OPTIONS: Readonly<Record<string, string>> = {
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
const LORA_ONLY = ["loraplus_lr_ratio", "use_rslora", "use_dora", "pissa_init"];

function methodBlock(r: Reader): Block {
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
function quantisation(r: Reader, bits: number): Entry[] {
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
function llamaProBlock(r: Reader, type: string): Block {
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

/** LLaMA-Factory's losses that lft's dpo stage has (its `pref_loss` choices less kto_pair). */
const DPO_LOSSES = ["sigmoid", "hinge", "ipo", "orpo", "simpo", "bco_pair"];
const NO_REFERENCE_EXTRAS =
  "lft loads ref_model as a plain frozen model folder (no adapters on it, no quantisation); merge the adapters into it first (lft export { merge = true }); not carried over";

/** The preference stages' keys (pref_*, dpo_*, simpo_*, kto_*, ref_model*) → the dpo/kto stage options. */
function preferenceOptions(
  r: Reader,
  stage: string,
  entries: Entry[],
  add: (key: string, value: ReturnType<typeof num> | undefined) => void,
  n: (key: string) => ReturnType<typeof num> | undefined,
): void {
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

/** Trainer keys → train block options, and the stage's own. */
function trainBlock(r: Reader, optimizer: OptimizerChoice | undefined): Block {
  const stage = r.string("stage") ?? "sft";
  const doTrain = r.take("do_train");
  if (doTrain === false) r.warn("do_train", "do_train is false, but a recipe with a train block trains; remove the train block to only evaluate");
  const steps = r.number("max_steps");
  const epochs = r.number("num_train_epochs");
  const duration =
    steps !== undefined && steps > 0
      ? { amount: steps, unit: "steps" as const }
      : epochs !== undefined
        ? { amount: epochs, unit: "epochs" as const }
        : undefined;

  const entries: Entry[] = [];
  const add = (key: string, value: ReturnType<typeof num> | undefined): void => {
    if (value !== undefined) entries.push(entry(key, value));
  };
  const n = (key: string): ReturnType<typeof num> | undefined => {
    const v = r.number(key);
    return v === undefined ? undefined : num(v);
  };
  add("lr", n("learning_rate"));
  const scheduler = r.string("lr_scheduler_type");
  if (scheduler !== undefined) {
    const mapped = { cosine: "cosine", linear: "linear", constant: "constant", constant_with_warmup: "constant" }[scheduler];
    if (mapped === undefined) r.warn("lr_scheduler_type", `lft has constant, linear and cosine schedules, not ${scheduler}; not carried over`);
    else add("scheduler", word(mapped));
  }
  const warmupSteps = r.number("warmup_steps");
  const warmupRatio = r.number("warmup_ratio");
  if (warmupSteps !== undefined && warmupSteps > 0) add("warmup", num(warmupSteps, "steps"));
  else if (warmupRatio !== undefined) add("warmup", num(warmupRatio, "%"));
  add("batch", n("per_device_train_batch_size"));
  add("accumulate", n("gradient_accumulation_steps"));
  add("cutoff", n("cutoff_len"));
  // LLaMA-Factory's packing concatenates samples; its neat_packing isolates them (the same train options in lft).
  const [packing, neatPacking] = [r.flag("packing"), r.flag("neat_packing")];
  if (neatPacking) add("neat_packing", bool(true));
  else if (packing) add("packing", bool(true));
  add("weight_decay", n("weight_decay"));
  // Layer-wise GaLore/APOLLO step each weight inside backward, before any global norm exists: no clipping.
  const layerwise = optimizer?.entries.some((e) => e.key === "layerwise" && e.value.kind === "bool" && e.value.value) ?? false;
  if (layerwise) {
    add("clip", num(0));
    const clip = r.number("max_grad_norm");
    if (clip !== undefined && clip > 0)
      r.warn("max_grad_norm", `${optimizer?.flag} with layer-wise updates cannot clip gradients (LLaMA-Factory ignores it too); written as clip = 0`);
  } else add("clip", n("max_grad_norm"));
  add("seed", n("seed"));
  const valSize = r.number("val_size");
  if (valSize !== undefined) add("holdout", valSize < 1 ? num(valSize, "%") : undefined);
  if (valSize !== undefined && valSize >= 1) r.warn("val_size", "lft holds out a fraction, not a row count; not carried over");
  add("eval_every", n("eval_steps"));
  add("save_every", n("save_steps"));
  add("log_every", n("logging_steps"));
  const optim = r.string("optim");
  if (optimizer !== undefined) {
    add("optimizer", word(optimizer.name));
    entries.push(...optimizer.entries);
    if (optim !== undefined) r.warn("optim", `${optimizer.flag} chooses the ${optimizer.name} optimizer; not carried over`);
    for (const key of ["adam_beta1", "adam_beta2", "adam_epsilon"])
      if (r.has(key)) r.warn(key, `the ${optimizer.name} optimizer's own settings apply; not carried over`);
  } else if (optim !== undefined) {
    if (optim.startsWith("adamw")) add("optimizer", word("adamw"));
    else r.warn("optim", `lft's optimizers come from plugins; ${optim} is not mapped; not carried over`);
  }
  // HF's Adam hyper-parameters are the adamw plugin's options (HF's default optimizer is AdamW).
  if (optimizer === undefined && (optim === undefined || optim.startsWith("adamw"))) {
    add("beta1", n("adam_beta1"));
    add("beta2", n("adam_beta2"));
    add("eps", n("adam_epsilon"));
  }
  preferenceOptions(r, stage, entries, add, n);
  const resume = r.take("resume_from_checkpoint");
  if (resume === true) add("resume", bool(true));
  else if (typeof resume === "string") {
    add("resume", bool(true));
    r.warn("resume_from_checkpoint", "lft resumes from the last checkpoint in output; the path itself is not carried over");
  }
  const output = r.string("output_dir");
  if (output !== undefined) add("output", str(output));
  return block("train", { name: stage, ...(duration === undefined ? {} : { duration }), entries, blankBefore: true });
}

function evalBlocks(r: Reader): Block[] {
  const names = splitList(r.string("eval_dataset"));
  const batch = r.number("per_device_eval_batch_size");
  const dir = r.values.get("dataset_dir")?.value;
  return names.map((name, i) => {
    const entries = [entry("dir", str(typeof dir === "string" ? dir : "data"))];
    if (batch !== undefined) entries.push(entry("batch", num(batch)));
    return block("eval", { source: name, entries, blankBefore: i === 0 });
  });
}

function exportBlocks(r: Reader): Block[] {
  const dir = r.string("export_dir");
  if (dir === undefined) return [];
  const merge = r.values.has("adapter_name_or_path");
  return [block("export", { source: dir, entries: merge ? [entry("merge", bool(true))] : [], blankBefore: true })];
}

/** Options that take a list of names (LLaMA-Factory writes them as comma-separated text). */
// GaLore's and APOLLO's `target` stays LLaMA-Factory's text ("all" or "q_proj,v_proj"), as their schema takes it.
const LIST_OPTIONS = new Set(["targets", "modules", "extra_modules", "additional_target"]);

/** Carries method keys over under their lft names; comma lists become lists of names. */
function options(r: Reader, names: Readonly<Record<string, string>>): Entry[] {
  const entries: Entry[] = [];
  for (const [from, to] of Object.entries(names)) {
    const value = r.take(from);
    if (value === undefined || value === null) continue;
    if (LIST_OPTIONS.has(to)) entries.push(entry(to, list(splitList(String(value)).map(word))));
    else if (typeof value === "number") entries.push(entry(to, num(value)));
    else if (typeof value === "boolean") entries.push(entry(to, bool(value)));
    else entries.push(entry(to, /^[A-Za-z_][A-Za-z0-9_-]*$/.test(value) ? word(value) : str(value)));
  }
  return entries;
}

function splitList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
