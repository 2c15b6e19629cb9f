// `lft import config.yaml`: a LLaMA-Factory training config as a recipe. Every key is either carried
// into the recipe or reported with a warning saying why it was not, at its line in the YAML.
// Option names follow lft's conventions (method lora { rank, alpha, dropout, targets }, train dpo
// { beta, loss }), which the method and stage plugins declare in their schemas.

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
  badam_verbose: "logging verbosity has no recipe setting",
  export_size: "shard size is chosen by the exporter",
  export_device: "the exporter runs where the session runs",
  export_legacy_format: "lft writes safetensors only",
};

class Reader {
  readonly warnings: Diagnostic[] = [];
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

  const method = methodBlock(r);
  const statements: Statement[] = [
    modelBlock(r, path, method.name?.text ?? "lora"),
    ...datasetBlocks(r),
    { ...method, comments: { leading: [], blankBefore: true } },
    trainBlock(r),
    ...evalBlocks(r),
    ...exportBlocks(r),
  ];
  r.leftovers();
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
const trainsBaseWeights = new Set(["full", "freeze", "galore", "badam"]);

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

function methodBlock(r: Reader): Block {
  const type = r.string("finetuning_type") ?? "lora";
  if (type === "full" && r.flag("use_galore")) {
    return block("method", {
      name: "galore",
      entries: options(r, {
        galore_rank: "rank",
        galore_scale: "scale",
        galore_update_interval: "update_interval",
        galore_layerwise: "layerwise",
        galore_target: "targets",
      }),
    });
  }
  if (type === "full" && r.flag("use_badam")) {
    return block("method", {
      name: "badam",
      entries: options(r, {
        badam_mode: "mode",
        badam_switch_mode: "switch_mode",
        badam_switch_interval: "switch_interval",
        badam_update_ratio: "update_ratio",
      }),
    });
  }
  if (type === "lora") {
    const bits = r.number("quantization_bit");
    const entries = options(r, {
      lora_rank: "rank",
      lora_alpha: "alpha",
      lora_dropout: "dropout",
      lora_target: "targets",
      use_rslora: "rslora",
      use_dora: "dora",
      loraplus_lr_ratio: "loraplus_lr_ratio",
      additional_target: "additional_target",
    });
    if (r.flag("pissa_init")) entries.push(entry("init", word("pissa")));
    const iters = r.number("pissa_iter");
    if (iters !== undefined) entries.push(entry("pissa_iter", num(iters)));
    if (bits !== undefined) return block("method", { name: "qlora", entries: [...entries, entry("bits", num(bits))] });
    return block("method", { name: "lora", entries });
  }
  if (type === "freeze") {
    return block("method", { name: "freeze", entries: options(r, { freeze_trainable_layers: "layers", freeze_trainable_modules: "modules" }) });
  }
  return block("method", { name: type });
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
function trainBlock(r: Reader): Block {
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
  if (r.flag("packing") || r.flag("neat_packing")) add("pack", bool(true));
  add("weight_decay", n("weight_decay"));
  add("clip", n("max_grad_norm"));
  add("seed", n("seed"));
  const valSize = r.number("val_size");
  if (valSize !== undefined) add("holdout", valSize < 1 ? num(valSize, "%") : undefined);
  if (valSize !== undefined && valSize >= 1) r.warn("val_size", "lft holds out a fraction, not a row count; not carried over");
  add("eval_every", n("eval_steps"));
  add("save_every", n("save_steps"));
  add("log_every", n("logging_steps"));
  const optim = r.string("optim");
  if (optim !== undefined) {
    if (optim.startsWith("adamw")) add("optimizer", word("adamw"));
    else r.warn("optim", `lft's optimizers come from plugins; ${optim} is not mapped; not carried over`);
  }
  // HF's Adam hyper-parameters are the adamw plugin's options (HF's default optimizer is AdamW).
  if (optim === undefined || optim.startsWith("adamw")) {
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

/** Carries method keys over under their lft names; comma lists become lists of names. */
function options(r: Reader, names: Readonly<Record<string, string>>): Entry[] {
  const entries: Entry[] = [];
  for (const [from, to] of Object.entries(names)) {
    const value = r.take(from);
    if (value === undefined || value === null) continue;
    if (to === "targets" || to === "modules" || to === "additional_target") entries.push(entry(to, list(splitList(String(value)).map(word))));
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
