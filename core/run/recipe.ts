// The recipe a run gets: the contract between whatever reads recipes (the DSL, `lft chat`, a tool) and
// whatever runs them (a runner plugin on the `runRecipe` hook). Bindings are substituted, options
// validated against the plugins' schemas and defaults filled.

import type { ResolvedOptions } from "../registry.ts";

/** The unit written after a number (`3 epochs`, `100 steps`, `10%`, `1_000 tokens`). */
export type Unit = "%" | "epochs" | "steps" | "tokens";

export interface ModelBlock {
  /** Absent: read `model_type` from the directory's config.json at load time. */
  readonly family?: string;
  readonly path: string;
  readonly options: ResolvedOptions;
}
export interface DatasetBlock {
  /** Absent: decided by the data loader (dataset_info.json, file extension). */
  readonly format?: string;
  readonly source: string;
  readonly options: ResolvedOptions;
}
export interface MethodBlock {
  readonly name: string;
  readonly options: ResolvedOptions;
}
export interface TrainAction {
  readonly action: "train";
  readonly stage: string;
  readonly duration: { readonly amount: number; readonly unit: "epochs" | "steps" };
  readonly options: ResolvedOptions;
  /** The unit written after a number option that has one (`warmup = 100 steps` → `{ warmup: "steps" }`). */
  readonly units: Readonly<Record<string, Unit>>;
}
export interface EvalAction {
  readonly action: "eval";
  readonly format?: string;
  /** Absent: the held-out part of the training data. */
  readonly source?: string;
  readonly options: ResolvedOptions;
}
export interface PredictAction {
  readonly action: "predict";
  readonly format?: string;
  readonly source: string;
  readonly options: ResolvedOptions;
}
export interface ExportAction {
  readonly action: "export";
  readonly path: string;
  readonly options: ResolvedOptions;
}
export interface ChatAction {
  readonly action: "chat";
  /** Absent: an interactive chat. */
  readonly prompt?: string;
  readonly options: ResolvedOptions;
}
export type Action = TrainAction | EvalAction | PredictAction | ExportAction | ChatAction;

export interface ResolvedRecipe {
  readonly file: string;
  /** Relative paths in the recipe resolve against this directory (the recipe's own). */
  readonly baseDir: string;
  /** Plugin packages the recipe loaded, in order. */
  readonly uses: readonly string[];
  readonly model?: ModelBlock;
  /** One or more sources; with several, each option `weight` sets its share of the mix. */
  readonly datasets: readonly DatasetBlock[];
  readonly method?: MethodBlock;
  /** Train, eval, predict, export and chat, in the order the recipe wrote them. */
  readonly actions: readonly Action[];
}
