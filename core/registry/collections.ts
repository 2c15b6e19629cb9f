// The registry's named collections and the entry type each holds. The entry interfaces are
// deliberately minimal: the modules that own a concept (model loading, data formats, ...) add their
// payload fields by declaration merging, e.g.
//   declare module "../core/registry" { interface ModelEntry { load(dir: string): ... } }
// so the registry never imports the code it hosts.

import type { Result } from "neverthrow";
import type { Backend } from "../backend/backend.ts";
import type { CollectiveError, Collectives } from "../dist/collectives.ts";
import type { OptionSchema, ResolvedOptions } from "./options";

/** Fields every entry has, whatever its collection. */
export interface EntryBase {
  /** Unique within its collection; what a recipe writes (`method lora`, `template chatml`). */
  readonly name: string;
  readonly doc?: string;
  /** Options the recipe may set for this entry; checked with `validateOptions`. */
  readonly options?: OptionSchema;
  /**
   * Combinations of valid options the entry refuses (QLoRA's dora over a quantised base, ...), each
   * with the option key it is reported at; `lft check` reports them at that option's line.
   */
  readonly optionProblems?: (options: ResolvedOptions) => readonly { readonly key: string; readonly message: string }[];
}

// Empty on purpose until the owning module merges its payload in (see the file header).
/** A model family (`llama`, `qwen2`, ...): config mapping, module tree, weight names. */
export interface ModelEntry extends EntryBase {}
/** A dataset format (`alpaca`, `sharegpt`, ...): rows to messages or text. */
export interface DatasetEntry extends EntryBase {}
/** A chat template (`chatml`, `llama3`, ...): messages to token ids and labels. */
export interface TemplateEntry extends EntryBase {}
/** A fine-tuning method (`lora`, `qlora`, `full`, ...): what is trainable and how layers are wrapped. */
export interface MethodEntry extends EntryBase {}
/** A training stage (`sft`, `dpo`, ...): a loss and a batch iterator for the one train loop. */
export interface StageEntry extends EntryBase {}
/** An optimizer (`adamw`, ...). */
export interface OptimizerEntry extends EntryBase {}
/** Where a command writes and what relative paths resolve against; the CLI and the REPL each give one. */
export interface CommandIO {
  /** Written as given: the command adds its own newlines. */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
}

/**
 * What a command can reach besides its arguments. Modules that own more session state (the REPL's
 * live model, ...) add fields by declaration merging, as for the entries above; `registry` is merged
 * in by registry.ts, so this file does not import the registry (which imports it).
 */
export interface CommandSession {
  /** `lft <verb>` on the command line, or `:verb` inside the REPL. */
  readonly mode: "cli" | "repl";
}

/** A REPL/CLI verb (`lft check`, `lft convert`, `:hello` in the REPL). */
export interface CommandEntry extends EntryBase {
  /** Argument synopsis shown by help, e.g. "<recipe.lft> [--write]". */
  readonly usage?: string;
  /** Where the verb is offered; default both. */
  readonly scope?: "cli" | "repl" | "both";
  /**
   * Runs the verb; resolves to its exit status (0 success, codes in core/command/exit-codes.ts). User errors
   * are written to io.stderr and returned as a status, never thrown.
   */
  run(args: readonly string[], io: CommandIO, session: CommandSession): Promise<number>;
}
/** A compute backend (`cpu`, `cuda`): `device = auto` takes the first available in preference order. */
export interface BackendEntry extends EntryBase {
  /** Higher is preferred by `device = auto` (cpu 0, cuda 100). */
  readonly priority: number;
  /** true, or why this backend cannot run here (no GPU found, driver library missing, ...). */
  available(): true | string;
  /** The backend itself; called only when available() is true. */
  open(): Backend;
}

/**
 * A collectives engine (`mpi`, `nccl`) for data parallelism. A run picks the engine its launcher
 * implies (`launchedBy`), or the one the recipe names; with neither it runs as one rank.
 */
export interface CollectivesEntry extends EntryBase {
  /** True when this process was started by the engine's launcher (mpirun/srun set their env). */
  launchedBy(env: Readonly<Record<string, string | undefined>>): boolean;
  /** true, or why the engine cannot run here (library not built, launcher missing, ...). */
  available(): true | string;
  /** Joins the job's communicator (collective: every rank calls it). */
  open(): Result<Collectives, CollectiveError>;
}

/** What an evaluation metric sees; later modules may merge in more (logits, token ids). */
export interface MetricInput {
  readonly predictions: readonly string[];
  readonly references: readonly string[];
}

/** An evaluation metric (`exact_match`, `accuracy`, ...). */
export interface MetricEntry extends EntryBase {
  /** One score over the whole set; `options` are already validated against `this.options`. */
  compute(input: MetricInput, options: ResolvedOptions): number;
  /** What reports multiply `compute`'s score by (default 1): 100 makes a 0..1 fraction print as a percent like the built-ins. */
  readonly scale?: number;
}

/** What a reward function scores: one prompt's group of sampled completions and the dataset row's reference. */
export interface RewardInput {
  /** The prompt as the model saw it (template applied), decoded. */
  readonly prompt: string;
  /** The group's completions, decoded (EOS left out). */
  readonly completions: readonly string[];
  /** Generated tokens per completion (EOS included). */
  readonly completionTokens: readonly number[];
  /** The row's reference (its response column, e.g. an `answer` column mapped as the response); "" when none. */
  readonly reference: string;
}

/** A reward function for RL stages (`exact_match`, `regex`, `length`, ...): one score per completion. */
export interface RewardEntry extends EntryBase {
  /** `options` are already validated against `this.options`. */
  score(input: RewardInput, options: ResolvedOptions): number[];
}

/**
 * Collection name → entry type. A new built-in collection is added here and in `builtinCollections`;
 * augmentation is for entry fields (or for a custom map passed to `createRegistry(spec)`).
 */
export interface CollectionTypes {
  models: ModelEntry;
  datasets: DatasetEntry;
  templates: TemplateEntry;
  methods: MethodEntry;
  stages: StageEntry;
  optimizers: OptimizerEntry;
  metrics: MetricEntry;
  rewards: RewardEntry;
  backends: BackendEntry;
  commands: CommandEntry;
  collectives: CollectivesEntry;
}

/** Any collection map a registry can host: every collection holds entries with a name. */
export type CollectionMap<C> = { readonly [K in keyof C]: EntryBase };

export type CollectionName<C> = keyof C & string;

/**
 * Collection name → what one entry is called in messages ("unknown chat template ..."). It doubles
 * as the run-time list of collections, which the type alone cannot provide.
 */
export type CollectionNouns<C> = { readonly [K in CollectionName<C>]: string };

export const builtinCollections: CollectionNouns<Pick<CollectionTypes, BuiltinCollection>> = {
  models: "model family",
  datasets: "dataset format",
  templates: "chat template",
  methods: "method",
  stages: "stage",
  optimizers: "optimizer",
  metrics: "metric",
  rewards: "reward function",
  backends: "backend",
  commands: "command",
  collectives: "collectives engine",
};

type BuiltinCollection =
  | "models"
  | "datasets"
  | "templates"
  | "methods"
  | "stages"
  | "optimizers"
  | "metrics"
  | "rewards"
  | "backends"
  | "commands"
  | "collectives";
