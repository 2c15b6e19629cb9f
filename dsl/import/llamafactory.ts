// `lft import config.yaml`: a LLaMA-Factory training config as a recipe. Every key is either carried
// into the recipe or reported with a warning saying why it was not, at its line in the YAML.
// Option names follow lft's conventions (method lora { rank, alpha, dropout, targets }, train dpo
// { beta, loss }), which the method and stage plugins declare in their schemas. LLaMA-Factory's
// memory-efficient optimizers (use_galore, use_apollo, use_badam, use_adam_mini, use_muon) become
// `optimizer = <name>` with their options flat in the train block; quantization_* becomes method qlora;
// use_llama_pro becomes method llama_pro. Combinations LLaMA-Factory itself refuses are errors at the key.
// What the config does decides the blocks: training (train), do_predict (predict blocks), do_eval
// (eval blocks), export_dir without training (export, merging a loaded adapter), or none of these
// (an inference config: chat). LLaMA-Factory's defaults are written out where they differ from lft's
// (lora alpha 2×rank, batch 8, linear schedule, cutoff 2048, 3 epochs, sampling 0.95/0.7, 1024 tokens).
// The recipe is then checked against lft's built-in plugins: one `lft check` would refuse is an error.

import { basename, dirname, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { isMap, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import { createRegistry, type Registry } from "../../core/index.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { checkRecipe } from "../check";
import { type Diagnostic, error, type Span } from "../diagnostics";
import { parseRecipe } from "../parse";
import { printRecipe } from "../printer";
import type { Block, Entry, Recipe, Statement, Value } from "../recipe";
import { block, bool, entry, list, num, str, word } from "./build";
import { DROPPED, REFUSED } from "./llamafactory-keys";

export interface Imported {
  readonly text: string;
  readonly recipe: Recipe;
  /** One per key that could not be carried over, at its place in the YAML. */
  readonly warnings: readonly Diagnostic[];
}

export interface ImportOptions {
  /**
   * The plugins the produced recipe must check against (lft check): a recipe they refuse makes the
   * import an error. Default: lft's built-in plugins. false: return the text unchecked.
   */
  readonly check?: Registry | false;
}

let builtins: Registry | undefined;
function builtinRegistry(): Registry {
  if (builtins === undefined) {
    builtins = createRegistry();
    for (const plugin of builtinPlugins) builtins.use(plugin)._unsafeUnwrap();
  }
  return builtins;
}

type Scalar = string | number | boolean | null;

interface Value0 {
  /** The value when it is a single value (a YAML mapping or list reads as null here). */
  readonly value: Scalar;
  /** The value as YAML gave it: a scalar, or a mapping/list as plain data. */
  readonly raw: unknown;
  readonly span: Span;
}

class Reader {
  readonly warnings: Diagnostic[] = [];
  /** Combinations that cannot be imported, each at its key. */
  readonly errors: Diagnostic[] = [];
  readonly #used = new Set<string>();

  constructor(
    readonly values: ReadonlyMap<string, Value0>,
    readonly file: string,
  ) {}

  /** Marks a key as carried over and returns its value; a mapping or list where one value belongs is an error. */
  take(key: string): Scalar | undefined {
    const found = this.values.get(key);
    if (found === undefined) return undefined;
    this.#used.add(key);
    if (found.raw !== null && typeof found.raw === "object") {
      this.fail(key, "expected a single value, as in LLaMA-Factory's own configs");
      return undefined;
    }
    return found.value;
  }

  /** A key whose value is a YAML mapping (lr_scheduler_kwargs), or a JSON object written as text. */
  mapping(key: string): Record<string, unknown> | undefined {
    const found = this.values.get(key);
    if (found === undefined || found.raw === null) return undefined;
    this.#used.add(key);
    let raw = found.raw;
    if (typeof raw === "string") {
      try {
        raw = JSON.parse(raw);
      } catch {
        this.warn(key, `expected a mapping, found ${JSON.stringify(found.raw)}; not carried over`);
        return undefined;
      }
    }
    if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) return raw as Record<string, unknown>;
    this.warn(key, "expected a mapping; not carried over");
    return undefined;
  }

  /** A list of names: LLaMA-Factory's comma-separated text, or a YAML list. */
  names(key: string): string[] {
    const found = this.values.get(key);
    if (found === undefined) return [];
    this.#used.add(key);
    if (Array.isArray(found.raw)) return found.raw.map((x) => String(x).trim()).filter((x) => x !== "");
    return splitList(found.value === null ? undefined : String(found.value));
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

  /** A boolean key as written: true, false, or undefined when absent. */
  optionalFlag(key: string): boolean | undefined {
    if (!this.has(key)) {
      this.take(key);
      return undefined;
    }
    return this.flag(key);
  }

  warn(key: string, why: string): void {
    this.#used.add(key);
    const span = this.values.get(key)?.span;
    this.warnings.push({ ...error("semantic", this.file, span, `${key}: ${why}`), severity: "warning" });
  }

  /** A warning about a LLaMA-Factory default the YAML does not write (so it has no line). */
  warnDefault(key: string, why: string): void {
    this.warnings.push({ ...error("semantic", this.file, undefined, `${key}: ${why}`), severity: "warning" });
  }

  /** An error at `key`'s line: the config cannot be imported as it stands. */
  fail(key: string, why: string): void {
    this.#used.add(key);
    this.errors.push(error("semantic", this.file, this.values.get(key)?.span, `${key}: ${why}`));
  }

  /** Whether the YAML sets `key` (a null value counts as unset). */
  has(key: string): boolean {
    const found = this.values.get(key);
    return found !== undefined && found.raw !== null;
  }

  /** Whether a key has been carried over or reported. */
  used(key: string): boolean {
    return this.#used.has(key);
  }

  /** Keys lft cannot reproduce, set to something that changes the result: errors. */
  refused(): void {
    for (const [key, rule] of Object.entries(REFUSED)) {
      const found = this.values.get(key);
      if (found === undefined || found.raw === null) continue;
      if (rule.inert.some((x) => x === found.raw || String(x) === String(found.raw))) {
        this.#used.add(key);
        continue;
      }
      this.fail(key, `${rule.why}; LLaMA-Factory would train or write something else than lft can, so the config is not imported`);
    }
  }

  /** Warnings for every key nobody took. */
  leftovers(): void {
    for (const key of this.values.keys()) {
      if (this.#used.has(key)) continue;
      this.warn(
        key,
        DROPPED[key] === undefined
          ? "not an argument of LLaMA-Factory or of the Hugging Face trainer that lft knows (LLaMA-Factory refuses unknown keys); not carried over"
          : `${DROPPED[key]}; not carried over`,
      );
    }
  }
}

/** Keys only a training config sets: without do_train, one of them makes the config a training one. */
const TRAINING_KEY =
  /^(dataset|stage|finetuning_type|learning_rate|num_train_epochs|max_steps|per_device_train_batch_size|gradient_accumulation_steps|warmup_steps|warmup_ratio|lr_scheduler_type|lr_scheduler_kwargs|optim|weight_decay|max_grad_norm|seed|output_dir|cutoff_len|val_size|packing|neat_packing|train_on_prompt|mask_history|mix_strategy|interleave_probs|eval_steps|save_steps|logging_steps|eval_strategy|evaluation_strategy|save_strategy|resume_from_checkpoint|gradient_checkpointing|disable_gradient_checkpointing|loraplus_lr_ratio|additional_target|quantization_bit|quantization_type|quantization_method|double_quantization|ref_model|ref_model_adapters|ref_model_quantization_bit|adam_beta1|adam_beta2|adam_epsilon|(lora|pref|galore|apollo|badam|kto|dpo|simpo|freeze|pissa)_.*|use_(galore|apollo|badam|adam_mini|muon|llama_pro|dora|rslora))$/;

/** What the config asks LLaMA-Factory to do. */
type Job = "train" | "predict" | "eval" | "export" | "chat";

export function importLlamaFactory(yaml: string, file: string, options: ImportOptions = {}): Result<Imported, Diagnostic[]> {
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

  const values = new Map<string, Value0>();
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const span = spanAt(pair.key as Node) ?? { line: 1, col: 1, offset: 0, length: 1 };
    if (key === undefined) continue;
    if (pair.value === null) values.set(key, { value: null, raw: null, span });
    else if (isScalar(pair.value)) values.set(key, { value: pair.value.value as Scalar, raw: pair.value.value, span });
    else values.set(key, { value: null, raw: (pair.value as { toJSON(): unknown }).toJSON(), span });
  }

  const r = new Reader(values, file);
  const path = r.string("model_name_or_path");
  if (path === undefined) return err([error("semantic", file, undefined, "model_name_or_path is missing: a recipe needs its base model")]);
  r.refused();
  if (r.has("task")) {
    r.fail(
      "task",
      "this is a llamafactory-cli eval config (MMLU, C-Eval, CMMLU multiple-choice benchmarks), which lft does not have; to measure the loss on a dataset use do_eval with eval_dataset",
    );
    for (const key of ["task_dir", "batch_size", "lang", "n_shot", "save_dir", "download_mode"]) r.take(key);
  }
  const job = jobOf(r);
  templateSettings(r, job);
  r.take("overwrite_cache"); // lft's data cache is keyed by the data's hash, tokenizer and options: never stale
  const stage = r.string("stage") ?? "sft";

  const statements: Statement[] = [];
  if (job === "train") {
    const optimizer = optimizerChoice(r);
    const method = methodBlock(r);
    statements.push(
      modelBlock(r, path, method.name?.text ?? "lora", true),
      ...datasetBlocks(r),
      { ...method, comments: { ...method.comments, blankBefore: true } },
      trainBlock(r, stage, optimizer),
      ...evalBlocks(r, true),
      ...predictBlocks(r, stage),
      ...exportBlocks(r),
    );
  } else {
    statements.push(modelBlock(r, path, "lora", false));
    inferenceMethod(r, stage, job);
    if (r.has("dataset")) r.warn("dataset", "the config does not train (no do_train), so the training dataset is not read; not carried over");
    if (job !== "predict" && r.has("output_dir")) r.warn("output_dir", `nothing is written there without training or predicting; not carried over`);
    if (job !== "predict" && r.has("cutoff_len"))
      r.warn(
        "cutoff_len",
        job === "eval"
          ? "an eval block without a train block before it evaluates at cutoff 1024; not carried over"
          : "applies to training data; not carried over",
      );
    if (job === "predict") statements.push(...evalBlocks(r, false), ...predictBlocks(r, stage));
    else if (job === "eval") statements.push(...evalBlocks(r, false));
    else if (job === "export") statements.push(...exportBlocks(r));
    else statements.push(chatBlock(r));
    unusedTrainingKeys(r);
  }
  r.leftovers();
  if (r.errors.length > 0) return err(r.errors);
  const recipe: Recipe = {
    file,
    statements: statements.map((s, i) => (i === 0 ? { ...s, comments: { ...s.comments, leading: header(file) } } : s)),
    closing: [],
  };
  const text = printRecipe(recipe);
  if (options.check !== false) {
    const problems = checkProduced(text, file, options.check ?? builtinRegistry());
    if (problems.length > 0) return err(problems);
  }
  return ok({ text, recipe, warnings: r.warnings });
}

/** lft check on the produced recipe; what it refuses, as errors naming the imported file. */
function checkProduced(text: string, file: string, registry: Registry): Diagnostic[] {
  const lftFile = `${file.replace(/\.ya?ml$/i, "")}.lft`;
  const parsed = parseRecipe(text, lftFile);
  if (parsed.isErr())
    return parsed.error.map((d) => error("semantic", file, undefined, `the imported recipe does not parse (an lft import bug): ${d.message}`));
  const checked = checkRecipe(parsed.value, { registry, baseDir: resolve(dirname(file)) });
  if (checked.isOk()) return [];
  return checked.error
    .filter((d) => d.severity !== "warning")
    .map((d) => error("semantic", file, undefined, `the imported recipe would fail lft check (line ${d.span?.line ?? "?"} of the recipe): ${d.message}`));
}

/** Training, predicting, evaluating, exporting or chatting: what LLaMA-Factory would do with the config. */
function jobOf(r: Reader): Job {
  const doTrain = r.optionalFlag("do_train");
  const predict = r.flag("do_predict");
  const evaluate = r.flag("do_eval");
  if (doTrain === true) return "train";
  if (predict) return "predict";
  if (evaluate) return "eval";
  if (r.has("export_dir")) return "export";
  if (doTrain === false) {
    r.warn("do_train", "do_train is false and the config neither predicts, evaluates nor exports; imported as a chat session with the model");
    return "chat";
  }
  return [...r.values.keys()].some((k) => TRAINING_KEY.test(k) && r.has(k)) ? "train" : "chat";
}

/** enable_thinking, preserve_thinking, default_system: LLaMA-Factory's template settings. */
function templateSettings(r: Reader, job: Job): void {
  const thinking = r.optionalFlag("enable_thinking");
  if (thinking === false)
    r.warn("enable_thinking", "the recipe has no enable_thinking setting; lft's templates behave as with LLaMA-Factory's default (true); not carried over");
  const preserve = r.optionalFlag("preserve_thinking");
  if (preserve === true)
    r.warn(
      "preserve_thinking",
      "the recipe has no preserve_thinking setting; lft's templates behave as with LLaMA-Factory's default (false); not carried over",
    );
  if (job !== "chat" && r.has("default_system"))
    r.warn(
      "default_system",
      "the recipe sets a system prompt only for chat; training and predict use the template's own default system prompt; not carried over",
    );
}

/** Without training, finetuning_type/stage only say how the adapter was trained; LoRA keys do nothing. */
function inferenceMethod(r: Reader, stage: string, job: Job): void {
  const type = r.string("finetuning_type") ?? "lora";
  if (type !== "lora" && r.has("adapter_name_or_path"))
    r.fail("adapter_name_or_path", `adapters are only valid with finetuning_type lora, not ${type} (LLaMA-Factory refuses this too)`);
  if (job === "predict" && stage !== "sft")
    r.fail("stage", `predictions are generated by LLaMA-Factory's sft stage only (predict_with_generate); stage ${stage} cannot predict`);
  for (const key of ["quantization_bit", "quantization_type", "quantization_method", "double_quantization"])
    if (r.has(key))
      r.warn(
        key,
        "lft quantises a model for QLoRA training only (method qlora); here the model loads unquantised (more memory, and answers without the quantisation error); not carried over",
      );
}

/** After the blocks of a config that does not train: what only training reads has no effect. */
function unusedTrainingKeys(r: Reader): void {
  for (const key of r.values.keys())
    if (!r.used(key) && TRAINING_KEY.test(key))
      r.warn(key, "the config does not train (no do_train), so this training setting has no effect; not carried over");
}

function header(file: string): string[] {
  const name = basename(file).replace(/\.ya?ml$/i, "");
  return [`# Imported from ${basename(file)} (a LLaMA-Factory config) by lft import.`, `# Run: ./lft ${name}.lft`, ""];
}

/** Methods that train full-precision copies of the base weights, which must then load in f32. */
const trainsBaseWeights = new Set(["full", "freeze", "llama_pro"]);

function modelBlock(r: Reader, path: string, method: string, training: boolean): Block {
  const entries: Entry[] = [];
  const template = r.string("template");
  if (template !== undefined) entries.push(entry("template", word(template)));
  const half = r.flag("pure_bf16") || r.flag("bf16") ? "bf16" : r.flag("fp16") ? "f16" : undefined;
  if (half !== undefined) {
    if (training && trainsBaseWeights.has(method)) {
      for (const key of ["bf16", "pure_bf16", "fp16"]) {
        if (r.values.has(key)) r.warn(key, `method ${method} trains the base weights, which lft keeps in f32; not carried over`);
      }
    } else entries.push(entry("dtype", word(half)));
  }
  const inferDtype = r.string("infer_dtype");
  if (inferDtype !== undefined && inferDtype !== "auto") {
    const dtype = { float16: "f16", bfloat16: "bf16", float32: "f32" }[inferDtype];
    if (training) r.warn("infer_dtype", "applies to inference; the training dtype comes from bf16/fp16; not carried over");
    else if (dtype === undefined) r.warn("infer_dtype", `expected auto, float16, bfloat16 or float32, not ${inferDtype}; not carried over`);
    else if (half === undefined) entries.push(entry("dtype", word(dtype)));
    else r.warn("infer_dtype", "bf16/fp16 already set the dtype; not carried over");
  }
  const adapters = r.names("adapter_name_or_path");
  if (adapters.length > 1) r.fail("adapter_name_or_path", "lft loads one adapter; merge the others into the base model first (lft export { merge = true })");
  if (adapters[0] !== undefined) entries.push(entry("adapter", str(adapters[0])));
  const revision = r.string("model_revision");
  const source = revision === undefined || revision === "main" ? path : `${path}@${revision}`;
  return block("model", { source, entries });
}

/** `dir` when dataset_dir is not LLaMA-Factory's and lft's default, "data". */
function dirEntry(r: Reader): Entry[] {
  const dir = r.values.get("dataset_dir")?.value;
  r.take("dataset_dir");
  return typeof dir === "string" && dir !== "data" ? [entry("dir", str(dir))] : [];
}

function datasetBlocks(r: Reader): Block[] {
  const names = r.names("dataset");
  r.take("dataset_dir");
  const maxSamples = r.values.get("max_samples")?.value;
  r.take("max_samples");
  const probs = splitList(r.string("interleave_probs")).map(Number);
  if (probs.length > 0 && probs.length !== names.length)
    r.fail("interleave_probs", `${probs.length} probabilities for ${names.length} datasets (LLaMA-Factory refuses this too)`);
  const strategy = r.string("mix_strategy");
  if (strategy !== undefined && strategy !== "concat" && probs.length === 0)
    r.warn("mix_strategy", "without interleave_probs lft mixes sources in proportion to their size; not carried over");
  if (strategy !== undefined && strategy !== "concat" && probs.length > 0 && strategy !== "interleave_under")
    r.warn("mix_strategy", `lft draws by interleave_probs until the data is used once (interleave_under), not ${strategy}`);
  return names.map((name, i) => {
    const entries = dirEntry(r);
    if (typeof maxSamples === "number") entries.push(entry("max_samples", num(maxSamples)));
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

/** PPO's keys (reward_model*, ppo_*, the generation settings of its rollouts) → the ppo stage options. */
function ppoOptions(
  r: Reader,
  stage: string,
  entries: Entry[],
  add: (key: string, value: ReturnType<typeof num> | undefined) => void,
  n: (key: string) => ReturnType<typeof num> | undefined,
): void {
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

/** HF's schedules that lft has (constant_with_warmup is lft's constant; HF's constant has no warmup). */
const SCHEDULERS: Readonly<Record<string, string>> = {
  cosine: "cosine",
  linear: "linear",
  constant: "constant",
  constant_with_warmup: "constant",
  cosine_with_min_lr: "cosine",
};

/** lr_scheduler_type and lr_scheduler_kwargs → scheduler, min_lr; HF's defaults written out (linear). */
function scheduleEntries(r: Reader, lr: number, add: (key: string, value: Value | undefined) => void): { warmup: boolean } {
  const scheduler = r.string("lr_scheduler_type") ?? "linear";
  const mapped = SCHEDULERS[scheduler];
  if (mapped === undefined) {
    r.warn("lr_scheduler_type", `lft has constant, linear and cosine schedules (and cosine_with_min_lr), not ${scheduler}; not carried over`);
    return { warmup: true };
  }
  add("scheduler", word(mapped));
  const kwargs = r.mapping("lr_scheduler_kwargs") ?? {};
  const rest = Object.keys(kwargs).filter((k) => !(scheduler === "cosine_with_min_lr" && (k === "min_lr" || k === "min_lr_rate")));
  if (scheduler === "cosine_with_min_lr") {
    const minLr = typeof kwargs.min_lr === "number" ? kwargs.min_lr : typeof kwargs.min_lr_rate === "number" ? kwargs.min_lr_rate * lr : undefined;
    if (minLr === undefined)
      r.fail("lr_scheduler_type", "cosine_with_min_lr needs lr_scheduler_kwargs with min_lr or min_lr_rate (the Hugging Face trainer refuses it without)");
    else add("min_lr", num(minLr));
  }
  const inert = rest.filter((k) => !(k === "num_cycles" && kwargs[k] === 0.5));
  if (inert.length > 0)
    r.warn(
      "lr_scheduler_kwargs",
      `lft's ${mapped} schedule has no ${inert.join(", ")} (only cosine_with_min_lr's min_lr / min_lr_rate are carried over); not carried over`,
    );
  if (scheduler === "constant" && (r.has("warmup_steps") || r.has("warmup_ratio"))) {
    for (const key of ["warmup_steps", "warmup_ratio"])
      if (r.has(key)) r.warn(key, "the Hugging Face constant schedule has no warmup (constant_with_warmup has); not carried over");
    return { warmup: false };
  }
  return { warmup: true };
}

/** Trainer keys → train block options, and the stage's own. LLaMA-Factory's defaults are written where lft's differ. */
function trainBlock(r: Reader, stage: string, optimizer: OptimizerChoice | undefined): Block {
  const steps = r.number("max_steps");
  const epochs = r.number("num_train_epochs");
  const duration = steps !== undefined && steps > 0 ? { amount: steps, unit: "steps" as const } : { amount: epochs ?? 3, unit: "epochs" as const };

  const entries: Entry[] = [];
  const add = (key: string, value: Value | undefined): void => {
    if (value !== undefined) entries.push(entry(key, value));
  };
  const n = (key: string): ReturnType<typeof num> | undefined => {
    const v = r.number(key);
    return v === undefined ? undefined : num(v);
  };
  const lr = r.number("learning_rate") ?? 5e-5;
  if (r.has("learning_rate")) add("lr", num(lr));
  const { warmup } = scheduleEntries(r, lr, add);
  if (warmup) {
    const warmupSteps = r.number("warmup_steps");
    const warmupRatio = r.number("warmup_ratio");
    if (warmupSteps !== undefined && warmupSteps >= 1) add("warmup", num(Math.round(warmupSteps), "steps"));
    else if (warmupSteps !== undefined && warmupSteps > 0) add("warmup", num(warmupSteps, "%"));
    else if (warmupRatio !== undefined && warmupRatio > 0) add("warmup", num(warmupRatio, "%"));
  }
  add("batch", num(r.number("per_device_train_batch_size") ?? 8));
  add("accumulate", n("gradient_accumulation_steps"));
  add("cutoff", num(r.number("cutoff_len") ?? 2048));
  // LLaMA-Factory's packing concatenates samples (attention crosses them); neat_packing isolates them.
  const packing = r.optionalFlag("packing");
  const neat = r.optionalFlag("neat_packing");
  if (neat === true) {
    if (stage !== "sft") r.fail("neat_packing", `neat packing is for the sft stage only, not ${stage} (LLaMA-Factory refuses this too)`);
    add("neat_packing", bool(true));
  } else if (packing !== undefined) add("packing", bool(packing));
  for (const key of ["train_on_prompt", "mask_history"]) {
    const on = r.optionalFlag(key);
    if (on === undefined) continue;
    if (on && stage !== "sft") r.fail(key, `only the sft stage masks prompts, not ${stage} (LLaMA-Factory refuses this too)`);
    else add(key, bool(on));
  }
  if (r.flag("train_on_prompt") && r.flag("mask_history"))
    r.fail("mask_history", "mask_history cannot be combined with train_on_prompt (LLaMA-Factory refuses this too)");
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
  const checkpointing = r.optionalFlag("gradient_checkpointing");
  const disabled = r.optionalFlag("disable_gradient_checkpointing");
  if (checkpointing === true && disabled === true)
    r.warn("gradient_checkpointing", "disable_gradient_checkpointing turns it off again; written as checkpointing = false");
  if (checkpointing === true && disabled !== true) add("checkpointing", bool(true));
  const valSize = r.number("val_size");
  if (valSize !== undefined && valSize > 0 && valSize < 1) add("holdout", num(valSize, "%"));
  if (valSize !== undefined && valSize >= 1) r.warn("val_size", "lft holds out a fraction, not a row count; not carried over");
  if (r.has("per_device_eval_batch_size") && !r.has("eval_dataset"))
    r.warn("per_device_eval_batch_size", "lft evaluates the held-out data in batches of the train block's batch size (the loss is the same); not carried over");
  const evalStrategy = r.string("eval_strategy") ?? r.string("evaluation_strategy");
  const evalSteps = r.number("eval_steps");
  if (evalStrategy === "epoch")
    r.warn(
      r.has("eval_strategy") ? "eval_strategy" : "evaluation_strategy",
      "lft evaluates every eval_every steps or at the end, not each epoch; not carried over",
    );
  if (evalSteps !== undefined && evalStrategy !== "no") add("eval_every", num(evalSteps));
  const saveStrategy = r.string("save_strategy");
  if (saveStrategy === "epoch" || saveStrategy === "best")
    r.warn("save_strategy", `lft saves every save_every steps and at the end, not by ${saveStrategy}; not carried over`);
  if (saveStrategy === "no") r.take("save_steps");
  else add("save_every", n("save_steps"));
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
  ppoOptions(r, stage, entries, add, n);
  const resume = r.take("resume_from_checkpoint");
  if (resume === true) add("resume", bool(true));
  else if (typeof resume === "string") {
    add("resume", bool(true));
    r.warn("resume_from_checkpoint", "lft resumes from the last checkpoint in output; the path itself is not carried over");
  }
  const output = r.string("output_dir");
  if (output !== undefined) add("output", str(output));
  return block("train", { name: stage, duration, entries, blankBefore: true });
}

/** eval_dataset → eval blocks (the loss on each), with LLaMA-Factory's eval batch (HF's default 8) and max_samples. */
function evalBlocks(r: Reader, training: boolean): Block[] {
  // While training, eval_dataset is evaluated (HF turns do_eval on with an eval_strategy); otherwise only with do_eval.
  if (!r.flag("do_eval") && !(training && r.values.has("eval_dataset"))) return [];
  const names = r.names("eval_dataset");
  if (names.length === 0) {
    if (!r.used("val_size")) r.fail("do_eval", "evaluation needs eval_dataset (lft holds data out only while training; LLaMA-Factory refuses this too)");
    return [];
  }
  const batch = r.number("per_device_eval_batch_size") ?? 8;
  const maxSamples = r.values.get("max_samples")?.value;
  r.take("max_samples");
  return names.map((name, i) => {
    const entries = [...dirEntry(r), entry("batch", num(batch))];
    if (typeof maxSamples === "number") entries.push(entry("max_samples", num(maxSamples)));
    return block("eval", { source: name, entries, blankBefore: i === 0 });
  });
}

/** do_predict → a predict block per eval_dataset, generating as LLaMA-Factory's generating_args say (its defaults written). */
function predictBlocks(r: Reader, stage: string): Block[] {
  if (!r.flag("do_predict")) {
    if (r.has("predict_with_generate") && r.flag("predict_with_generate"))
      r.warn("predict_with_generate", "do_predict is not set, so nothing is predicted; not carried over");
    return [];
  }
  if (!r.flag("predict_with_generate")) r.fail("do_predict", "predictions are only written with predict_with_generate: true (LLaMA-Factory refuses this too)");
  if (stage !== "sft") r.fail("do_predict", `only the sft stage generates predictions, not ${stage} (LLaMA-Factory refuses this too)`);
  const names = r.names("eval_dataset");
  if (names.length === 0) r.fail("do_predict", "predicting needs eval_dataset: the prompts to answer (LLaMA-Factory refuses this too)");
  const batch = r.number("per_device_eval_batch_size") ?? 8;
  const maxSamples = r.values.get("max_samples")?.value;
  r.take("max_samples");
  if (r.has("cutoff_len") && !r.used("cutoff_len"))
    r.warn("cutoff_len", "lft's predict truncates prompts to the model's context length, not to cutoff_len; not carried over");
  const output = r.string("output_dir");
  const generation = generationEntries(r);
  return names.map((name, i) => {
    const entries = [...dirEntry(r), entry("batch", num(batch))];
    if (typeof maxSamples === "number") entries.push(entry("max_samples", num(maxSamples)));
    entries.push(...generation);
    if (output !== undefined) {
      const file = names.length === 1 ? "generated_predictions.jsonl" : `generated_predictions_${name.replace(/[^A-Za-z0-9_.-]/g, "_")}.jsonl`;
      entries.push(entry("output", str(`${output.replace(/\/+$/, "")}/${file}`)));
    }
    return block("predict", { source: name, entries, blankBefore: i === 0 });
  });
}

/** generating_args → max_new_tokens, temperature, top_p; LLaMA-Factory samples by default (0.95, 0.7, 1024 tokens). */
function generationEntries(r: Reader): Entry[] {
  const sample = r.optionalFlag("do_sample") ?? true;
  const entries: Entry[] = [];
  const maxNew = r.number("max_new_tokens") ?? 1024;
  if (maxNew > 0) {
    entries.push(entry("max_new_tokens", num(maxNew)));
    r.take("max_length");
  } else {
    const maxLength = r.number("max_length");
    r.warn("max_new_tokens", "lft limits the generated tokens only; max_length (prompt included) is not carried over, 1024 new tokens are");
    entries.push(entry("max_new_tokens", num(maxLength ?? 1024)));
  }
  if (sample) {
    entries.push(entry("temperature", num(r.number("temperature") ?? 0.95)), entry("top_p", num(r.number("top_p") ?? 0.7)));
    const topK = r.number("top_k");
    const why = `lft samples with temperature and top_p only; LLaMA-Factory also keeps only the ${topK ?? 50} likeliest tokens (top_k${topK === undefined ? "'s default" : ""}), which is not carried over`;
    if (r.has("top_k") || r.has("do_sample")) r.warn(r.has("top_k") ? "top_k" : "do_sample", why);
    else r.warnDefault("top_k", why);
  } else {
    entries.push(entry("temperature", num(0)));
    for (const key of ["temperature", "top_p", "top_k"])
      if (r.has(key)) r.warn(key, "do_sample is false: decoding is greedy (temperature = 0); not carried over");
  }
  const beams = r.number("num_beams");
  if (beams !== undefined && beams > 1) r.warn("num_beams", "lft decodes one sequence per prompt (no beam search); not carried over");
  if (r.has("length_penalty")) r.warn("length_penalty", "applies to beam search, which lft does not do; not carried over");
  const penalty = r.number("repetition_penalty");
  if (penalty !== undefined && penalty !== 1) r.warn("repetition_penalty", "lft's sampling has no repetition penalty; not carried over");
  const skip = r.optionalFlag("skip_special_tokens");
  if (skip === false) r.warn("skip_special_tokens", "lft's predictions never contain special tokens; not carried over");
  return entries;
}

/** An inference config (what llamafactory-cli chat reads): a chat block with its generation settings and system prompt. */
function chatBlock(r: Reader): Block {
  const entries = generationEntries(r);
  const system = r.string("default_system");
  if (system !== undefined) entries.push(entry("system", str(system)));
  return block("chat", { entries, blankBefore: true });
}

/** export_dir → an export block; merging when an adapter is loaded (LLaMA-Factory's merge_lora configs). */
function exportBlocks(r: Reader): Block[] {
  const dir = r.string("export_dir");
  if (dir === undefined) return [];
  const entries = r.has("adapter_name_or_path") ? [entry("merge", bool(true))] : [];
  return [block("export", { source: dir, entries, blankBefore: true })];
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
