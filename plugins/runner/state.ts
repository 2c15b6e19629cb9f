// What the runner keeps in the session's `live` map between REPL statements (one call for a recipe
// file): the loaded model with its tokenizer, the method attached to it, what changed its weights,
// the last training run and the data already prepared for this tokenizer.
import type {
  AppliedMethod,
  Backend,
  Batch,
  CausalLM,
  ChatEncoder,
  DataKind,
  GenerationConfig,
  ModelFamily,
  ModelSpec,
  PreparedData,
  RunnableStage,
  Tokenizer,
} from "../../core/index.ts";

export interface AttachedMethod {
  /** The method block it came from (JSON), or `adapter:<dir>` for an adapter loaded with the model. */
  readonly key: string;
  readonly applied: AppliedMethod;
}

/** The samples and settings of the last train action: eval without a source uses its held-out part. */
export interface LastRun {
  readonly runId: string;
  readonly output: string;
  readonly stage: RunnableStage;
  readonly stageOptions: Readonly<Record<string, unknown>>;
  readonly kind: DataKind;
  readonly cutoff: number;
  readonly heldOut: readonly unknown[];
  readonly collate: (samples: readonly unknown[]) => Batch;
  /** The template bound to the tokenizer, for generating from held-out prompts. */
  readonly encoder: ChatEncoder;
  readonly step: number;
}

export interface ModelState {
  /** What was loaded (directory, dtype, device, adapter) as JSON: a different key means a reload. */
  readonly key: string;
  readonly dir: string;
  /** Replaced when a method builds a new model (llama_pro's expansion): see adoptModel. */
  model: CausalLM;
  readonly family: ModelFamily;
  spec: ModelSpec;
  readonly generation: GenerationConfig;
  readonly tokenizer: Tokenizer;
  readonly backend: Backend;
  method?: AttachedMethod;
  /** What changed the weights since loading, oldest first ("lora adapter runs/x", "sft 80 steps"). */
  readonly history: string[];
  lastRun?: LastRun;
  /** Prepared data by its settings (JSON), valid for this tokenizer. */
  readonly data: Map<string, PreparedData<DataKind>>;
}

const KEY = "runner";

export function modelState(live: ReadonlyMap<string, unknown>): ModelState | undefined {
  return live.get(KEY) as ModelState | undefined;
}

/** Stores the state; `model` is the key the REPL's :params reads. */
export function setModelState(live: Map<string, unknown>, state: ModelState): void {
  live.set(KEY, state);
  live.set("model", state.model);
}

/** Makes `model` (a method's result, e.g. an expanded model) the session's model; the old one is disposed. */
export function adoptModel(state: ModelState, model: CausalLM): void {
  if (model === state.model) return;
  state.model.dispose();
  state.model = model;
  state.spec = model.spec;
}

export function dropModelState(live: Map<string, unknown>): void {
  const state = modelState(live);
  live.delete(KEY);
  live.delete("model");
  state?.model.dispose();
}
