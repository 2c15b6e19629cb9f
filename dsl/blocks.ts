// What each block kind allows and the options lft itself reads from it. A block's options are these
// plus the options schema of the registry entry it names (`method lora` → the lora plugin's), so
// plugins own their options and lft owns the run's (batch, lr, output...); an option that names an
// entry may bring that entry's options too (`optimizer = sgd` → `momentum`). The trainer, data worker
// and exporter read these from the ResolvedRecipe; when they move into core they should take their
// schemas with them and this table should import them.

import type { CollectionName, CollectionTypes, OptionSchema } from "../core/index.ts";
import type { BlockKind, Unit } from "./recipe";

export type Collection = CollectionName<CollectionTypes>;

/** A common option whose value names registry entries (one name, or a list of names). */
export interface RefRule {
  readonly collection: Collection;
  /** Values accepted besides registered names (`device = auto`). */
  readonly also?: readonly string[];
  /**
   * The named entry's option schema joins the block's, as the block's own entry's does
   * (`optimizer = sgd` makes `momentum` a train option). Only for single-name refs.
   */
  readonly options?: boolean;
}

export interface BlockRule {
  readonly doc: string;
  /** The word after the keyword: what it is called in messages and which collection holds it. */
  readonly name?: { readonly label: string; readonly collection: Collection; readonly required: boolean };
  /** The quoted string in the header, e.g. the model directory. */
  readonly source?: { readonly label: string; readonly required: boolean };
  /** Whether `for N epochs|steps` may follow. */
  readonly duration?: boolean;
  /** How many blocks of this kind a recipe may have. */
  readonly repeat: "once" | "many";
  /** Actions run in order; declarations describe the run (model, data, method). */
  readonly role: "declaration" | "action";
  readonly options: OptionSchema;
  readonly refs?: Readonly<Record<string, RefRule>>;
  /** Unit words a number option accepts (`%` is accepted by every number: it divides by 100). */
  readonly units?: Readonly<Record<string, readonly Exclude<Unit, "%">[]>>;
  /** Options that, written without a unit word, are fractions in [0, 1] (`warmup = 10%`). */
  readonly fractions?: readonly string[];
}

const dtype = { type: "enum", values: ["f32", "bf16", "f16"] } as const;

const sampling = {
  max_new_tokens: { type: "number", integer: true, min: 1, default: 256, doc: "most tokens generated per answer" },
  temperature: { type: "number", min: 0, default: 0, doc: "sampling temperature; 0 picks the likeliest token (greedy)" },
  top_p: { type: "number", min: 0, max: 1, default: 1, doc: "nucleus sampling: smallest set of tokens whose probability reaches top_p" },
} as const satisfies OptionSchema;

export const blockRules: { readonly [K in BlockKind]: BlockRule } = {
  model: {
    doc: "the base model: a Hugging Face directory (config.json, safetensors, tokenizer)",
    name: { label: "model family", collection: "models", required: false },
    source: { label: "model directory", required: true },
    repeat: "once",
    role: "declaration",
    options: {
      dtype: { ...dtype, doc: "storage dtype of the frozen weights (default: the checkpoint's own)" },
      template: { type: "string", doc: "chat template for chat data, chat and predict (default: the tokenizer's chat_template)" },
      device: { type: "string", default: "auto", doc: "backend to run on; auto takes the best available" },
      adapter: { type: "string", doc: "an existing adapter directory to load on top of the base weights" },
      seed: { type: "number", integer: true, min: 0, default: 42, doc: "seed for newly initialised weights (adapters, heads)" },
    },
    refs: { template: { collection: "templates" }, device: { collection: "backends", also: ["auto"] } },
  },
  dataset: {
    doc: "a training source; several dataset blocks are mixed",
    name: { label: "dataset format", collection: "datasets", required: false },
    source: { label: "dataset file, directory or name", required: true },
    repeat: "many",
    role: "declaration",
    options: {
      weight: { type: "number", min: 0, default: 1, doc: "share of this source in the mix, relative to the others" },
      max_samples: { type: "number", integer: true, min: 1, doc: "use at most this many rows" },
      split: { type: "string", default: "train", doc: "split to read from a multi-split source" },
      dir: { type: "string", doc: "directory holding dataset_info.json, when the source is a dataset name" },
      max_json_bytes: { type: "number", integer: true, min: 1, doc: "largest .json file read (parsed whole; default 1 GiB; JSONL streams)" },
      max_row_chars: { type: "number", integer: true, min: 1, doc: "longest row, a line or CSV record (default 64 Mi); longer rows are skipped and counted" },
    },
  },
  method: {
    doc: "what is trained and how layers are wrapped (lora, full, freeze, ...)",
    name: { label: "method", collection: "methods", required: true },
    repeat: "once",
    role: "declaration",
    options: {},
  },
  train: {
    doc: "a training stage (sft, pt, dpo, ...), run in order with the other actions",
    name: { label: "stage", collection: "stages", required: true },
    duration: true,
    repeat: "many",
    role: "action",
    options: {
      lr: { type: "number", min: 0, default: 5e-5, doc: "peak learning rate" },
      batch: { type: "number", integer: true, min: 1, default: 1, doc: "sequences per micro-batch" },
      accumulate: { type: "number", integer: true, min: 1, default: 1, doc: "micro-batches per optimizer step" },
      scheduler: { type: "enum", values: ["constant", "linear", "cosine"], default: "cosine", doc: "learning-rate schedule after warmup" },
      warmup: { type: "number", min: 0, default: 0, doc: "warmup: a fraction of the run (10%) or a step count (100 steps)" },
      min_lr: { type: "number", min: 0, doc: "floor the linear or cosine decay approaches (HF's cosine_with_min_lr); default 0" },
      optimizer: { type: "string", default: "adamw", doc: "optimizer entry; its own options (beta2, momentum, ...) may be set beside this one" },
      weight_decay: { type: "number", min: 0, default: 0, doc: "weight decay (norms and biases excepted); how it applies is the optimizer's" },
      clip: { type: "number", min: 0, default: 1, doc: "clip the global gradient norm to this (0: no clipping)" },
      seed: { type: "number", integer: true, min: 0, default: 42, doc: "seed for shuffling and dropout" },
      cutoff: { type: "number", integer: true, min: 1, default: 1024, doc: "longest sequence in tokens; longer samples are truncated" },
      packing: {
        type: "boolean",
        default: false,
        doc: "pack several samples into each row, concatenated: attention crosses samples, positions restart (LLaMA-Factory's packing)",
      },
      pack: { type: "boolean", default: false, doc: "the same as packing" },
      neat_packing: {
        type: "boolean",
        default: false,
        doc: "pack several samples into each row, isolated: attention never crosses samples (LLaMA-Factory's neat_packing; implies packing)",
      },
      holdout: { type: "number", min: 0, max: 1, default: 0, doc: "fraction of the data held out for evaluation" },
      eval_every: { type: "number", integer: true, min: 0, default: 0, doc: "evaluate on the held-out data every N steps (0: at the end)" },
      save_every: { type: "number", integer: true, min: 0, default: 0, doc: "save a checkpoint every N steps (0: at the end)" },
      save_total_limit: {
        type: "number",
        integer: true,
        min: 0,
        default: 3,
        doc: "keep the newest N checkpoints, plus the best one when load_best_model_at_end (0: keep all)",
      },
      load_best_model_at_end: { type: "boolean", default: false, doc: "end with the best checkpoint's weights (by metric_for_best_model)" },
      metric_for_best_model: {
        type: "string",
        default: "eval_loss",
        doc: "the eval metric that picks the best checkpoint (eval_loss or a logged eval metric)",
      },
      greater_is_better: { type: "boolean", doc: "whether a higher metric_for_best_model is better (default: false for a loss, true otherwise)" },
      early_stopping_steps: {
        type: "number",
        integer: true,
        min: 0,
        default: 0,
        doc: "stop when metric_for_best_model has not improved for N evaluations (0: never)",
      },
      log_every: { type: "number", integer: true, min: 1, default: 10, doc: "report metrics every N steps" },
      checkpointing: { type: "boolean", default: false, doc: "recompute activations in backward to save memory" },
      moe_aux_loss_coef: {
        type: "number",
        min: 0,
        doc: "weight of a mixture of experts' router load-balancing loss added to the loss (LLaMA-Factory's moe_aux_loss_coef; default: the config's router_aux_loss_coef when output_router_logits is set, else none)",
      },
      resume: { type: "boolean", default: false, doc: "continue from the last checkpoint in output" },
      output: { type: "string", doc: "run directory for checkpoints and the final adapter or model" },
      report_to: { type: "enum", values: ["none", "tensorboard"], default: "none", doc: "also write TensorBoard event files under <output>/runs" },
      collectives: {
        type: "string",
        default: "auto",
        doc: "data-parallel engine: auto (mpi when started by mpirun, srun or lft launch; else one process), single, mpi",
      },
      zero: {
        type: "number",
        integer: true,
        min: 0,
        max: 1,
        default: 0,
        doc: "ZeRO stage under data parallelism: 1 shards the optimizer state over the ranks (adamw, sgd); 0 keeps it whole on each",
      },
    },
    refs: { optimizer: { collection: "optimizers", options: true }, reward: { collection: "rewards", options: true } },
    units: { warmup: ["steps"], eval_every: ["steps"], save_every: ["steps"], log_every: ["steps"], cutoff: ["tokens"] },
    fractions: ["warmup"],
  },
  eval: {
    doc: "evaluate the model on a source (or on the held-out data) and report metrics",
    name: { label: "dataset format", collection: "datasets", required: false },
    source: { label: "dataset file, directory or name", required: false },
    repeat: "many",
    role: "action",
    options: {
      batch: { type: "number", integer: true, min: 1, default: 1, doc: "sequences per batch" },
      max_samples: { type: "number", integer: true, min: 1, doc: "evaluate at most this many rows" },
      dir: { type: "string", doc: "directory holding dataset_info.json, when the source is a dataset name" },
      metrics: { type: "list", item: { type: "string" }, default: [], doc: "metrics besides the loss" },
    },
    refs: { metrics: { collection: "metrics" } },
  },
  predict: {
    doc: "generate an answer for every prompt of a source and write them out",
    name: { label: "dataset format", collection: "datasets", required: false },
    source: { label: "dataset file, directory or name", required: true },
    repeat: "many",
    role: "action",
    options: {
      ...sampling,
      batch: { type: "number", integer: true, min: 1, default: 1, doc: "prompts per batch" },
      max_samples: { type: "number", integer: true, min: 1, doc: "predict at most this many rows" },
      dir: { type: "string", doc: "directory holding dataset_info.json, when the source is a dataset name" },
      output: { type: "string", doc: "JSONL file for the predictions (default: in the run directory)" },
      metrics: { type: "list", item: { type: "string" }, default: [], doc: "metrics comparing predictions with the references" },
    },
    refs: { metrics: { collection: "metrics" } },
  },
  export: {
    doc: "write the trained model (or adapter) as a Hugging Face directory",
    source: { label: "output directory", required: true },
    repeat: "many",
    role: "action",
    options: {
      merge: { type: "boolean", default: false, doc: "merge adapters into the weights (false writes a PEFT adapter)" },
      dtype: { ...dtype, doc: "dtype of the written weights (default: as loaded)" },
    },
  },
  chat: {
    doc: "answer one prompt, or chat interactively when no prompt is given",
    source: { label: "prompt", required: false },
    repeat: "many",
    role: "action",
    options: {
      ...sampling,
      temperature: { type: "number", min: 0, default: 0.7, doc: "sampling temperature; 0 picks the likeliest token (greedy)" },
      system: { type: "string", doc: "system prompt" },
      seed: { type: "number", integer: true, min: 0, default: 42, doc: "sampling seed" },
    },
  },
};

/** How one entry of each collection is called, and the plural for "known ..." lists. */
export const collectionWords: { readonly [K in Collection]: { readonly one: string; readonly many: string } } = {
  models: { one: "model family", many: "model families" },
  datasets: { one: "dataset format", many: "dataset formats" },
  templates: { one: "chat template", many: "chat templates" },
  methods: { one: "method", many: "methods" },
  stages: { one: "stage", many: "stages" },
  optimizers: { one: "optimizer", many: "optimizers" },
  metrics: { one: "metric", many: "metrics" },
  rewards: { one: "reward function", many: "reward functions" },
  backends: { one: "backend", many: "backends" },
  commands: { one: "command", many: "commands" },
  collectives: { one: "collectives engine", many: "collectives engines" },
};

export const blockKinds = Object.keys(blockRules) as BlockKind[];
