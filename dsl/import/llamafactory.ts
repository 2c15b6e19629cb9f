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
// Files: lf-reader.ts reads the YAML, lf-methods.ts maps methods, optimizers and stages, llamafactory-keys.ts
// gives the reason for every key lft leaves out.

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
import { block, bool, entry, num, str, word } from "./build";
import { lfEvalCommand } from "./lf-eval";
import { methodBlock, type OptimizerChoice, optimizerChoice, ppoOptions, preferenceOptions } from "./lf-methods";
import { Reader, type Scalar, splitList, type Value0 } from "./lf-reader";

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

/** Keys only a training config sets: without do_train, one of them makes the config a training one. */
const TRAINING_KEY =
  /^(dataset|stage|finetuning_type|learning_rate|num_train_epochs|max_steps|per_device_train_batch_size|gradient_accumulation_steps|warmup_steps|warmup_ratio|lr_scheduler_type|lr_scheduler_kwargs|optim|weight_decay|max_grad_norm|seed|output_dir|cutoff_len|val_size|packing|neat_packing|train_on_prompt|mask_history|mix_strategy|interleave_probs|eval_steps|save_steps|save_total_limit|load_best_model_at_end|metric_for_best_model|greater_is_better|early_stopping_steps|logging_steps|eval_strategy|evaluation_strategy|save_strategy|resume_from_checkpoint|gradient_checkpointing|disable_gradient_checkpointing|loraplus_lr_ratio|additional_target|quantization_bit|quantization_type|quantization_method|double_quantization|ref_model|ref_model_adapters|ref_model_quantization_bit|adam_beta1|adam_beta2|adam_epsilon|moe_aux_loss_coef|(lora|pref|galore|apollo|badam|kto|dpo|simpo|freeze|pissa)_.*|use_(galore|apollo|badam|adam_mini|muon|llama_pro|dora|rslora))$/;

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
          // The YAML parser recurses per nesting level and reports running out of stack as its message.
          /call stack/i.test(e.message)
            ? "nesting too deep: a LLaMA-Factory config's values are names, numbers, flat lists or one level of mapping"
            : e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
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
    // Before r.fail marks the key used: the command reads task too.
    const command = lfEvalCommand(r, path);
    r.fail(
      "task",
      `this is a llamafactory-cli eval config (MMLU, C-Eval, CMMLU multiple-choice benchmarks); lft runs benchmarks as a command, not a recipe: ${command}`,
    );
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
  // The router load-balancing loss's weight (LLaMA-Factory sets the MoE config's router_aux_loss_coef and output_router_logits).
  const aux = r.number("moe_aux_loss_coef");
  if (aux !== undefined && aux > 0) add("moe_aux_loss_coef", num(aux));
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
  reportTo(r, add);
  add("save_total_limit", n("save_total_limit"));
  const loadBest = r.optionalFlag("load_best_model_at_end");
  if (loadBest !== undefined) add("load_best_model_at_end", bool(loadBest));
  const bestMetric = r.string("metric_for_best_model");
  if (bestMetric !== undefined) add("metric_for_best_model", str(bestMetric.startsWith("eval_") ? bestMetric : `eval_${bestMetric}`));
  const greater = r.optionalFlag("greater_is_better");
  if (greater !== undefined) add("greater_is_better", bool(greater));
  add("early_stopping_steps", n("early_stopping_steps"));
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

/** report_to (text, comma-separated): tensorboard → report_to = tensorboard; other trackers are warned. */
function reportTo(r: Reader, add: (key: string, value: Value | undefined) => void): void {
  const given = r.values.get("report_to");
  if (given === undefined || (given.raw !== null && typeof given.raw === "object")) return; // a YAML list keeps the listed reason
  const targets = splitList(r.string("report_to"));
  if (targets.includes("tensorboard") || targets.includes("all")) add("report_to", word("tensorboard"));
  const other = targets.filter((t) => !["tensorboard", "all", "none"].includes(t));
  if (other.length > 0)
    r.warn(
      "report_to",
      `lft writes TensorBoard event files (report_to = tensorboard) and records every run in its run store; ${other.join(", ")}: not carried over`,
    );
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
