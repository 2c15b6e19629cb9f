// The best-checkpoint tracker: which evaluation metric decides (metric_for_best_model), which way is
// better, and the early-stopping patience count (evaluations without improvement). Its state lives in
// TrainerState (best, sinceBest, stopReason), so a resumed run keeps counting where it left off.
import type { TrainerState } from "./trainer-state.ts";

export interface BestSpec {
  /** The evaluation metric that decides: "eval_loss" (default), or "eval_<name>" / "<name>" of a logged eval metric. */
  readonly metric?: string;
  /** Default: true unless the metric's name ends in "loss" (HF's rule). */
  readonly greaterIsBetter?: boolean;
  /** Stop when the metric has not improved for this many evaluations in a row (default: never). */
  readonly patience?: number;
  /** At the end, put the best checkpoint's weights back into the parameters (a checkpoint is saved at each new best). */
  readonly loadAtEnd?: boolean;
}

/** "eval_loss" → { name: "eval_loss", key: "loss" }: the key inside an evaluation's metrics. */
export function bestMetric(spec: BestSpec | undefined): { name: string; key: string; greater: boolean } {
  const raw = spec?.metric ?? "eval_loss";
  const key = raw.startsWith("eval_") ? raw.slice(5) : raw;
  return { name: `eval_${key}`, key, greater: spec?.greaterIsBetter ?? !key.endsWith("loss") };
}

export type BestUpdate = { kind: "improved" } | { kind: "same" } | { kind: "stop"; reason: string } | { kind: "missing"; message: string };

/** Folds one evaluation into the tracker; says whether it improved, and whether patience ran out. */
export function updateBest(state: TrainerState, spec: BestSpec | undefined, step: number, metrics: Readonly<Record<string, number>>): BestUpdate {
  const m = bestMetric(spec);
  const value = metrics[m.key];
  if (value === undefined)
    return {
      kind: "missing",
      message: `metric_for_best_model "${m.name}" is not logged by the evaluation (it logs ${Object.keys(metrics)
        .map((k) => `eval_${k}`)
        .join(", ")})`,
    };
  const better = Number.isFinite(value) && (!state.best || (m.greater ? value > state.best.value : value < state.best.value));
  if (better) {
    state.best = { metric: m.name, value, step };
    state.sinceBest = 0;
    return { kind: "improved" };
  }
  state.sinceBest += 1;
  const patience = spec?.patience ?? 0;
  if (patience > 0 && state.sinceBest >= patience) {
    const best = state.best ? `; best ${state.best.value.toPrecision(4)} at step ${state.best.step}` : "";
    return { kind: "stop", reason: `early stopping: ${m.name} did not improve for ${state.sinceBest} evaluations${best}` };
  }
  return { kind: "same" };
}
