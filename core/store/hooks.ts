// The run store as run-event handlers: pass `storeHooks(store, info)` in train()'s handlers (or
// register its functions on a registry's hooks). It records the run's start (recipe, config hash,
// git revision, params), every step's metrics, evaluations, saved artifacts and how the run ended.

import type { Result } from "neverthrow";
import type { RunHandlers } from "../train/events.ts";
import type { NewRun, RunStore, StoreError } from "./store.ts";

/** What the events do not carry: the session knows these when it starts a run. */
export type RunInfo = Omit<NewRun, "id" | "totalSteps" | "startedAt" | "resumedFromStep">;

export function storeHooks(store: RunStore, info: RunInfo = {}): RunHandlers {
  // Handlers report failure by throwing; the loop turns it into a TrainError naming "run-store".
  const check = (r: Result<void, StoreError>): void => {
    if (r.isErr()) throw r.error;
  };
  return {
    name: "run-store",
    onRunStart(e) {
      check(
        store.startRun({
          ...info,
          recipe: info.recipe ?? e.recipe,
          id: e.runId,
          totalSteps: e.totalSteps,
          startedAt: e.startedAt,
          resumedFromStep: e.resumedFromStep,
        }),
      );
    },
    onStep(e) {
      const m: Record<string, number> = { loss: e.loss, lr: e.lr, tokens: e.tokens };
      if (e.gradNorm !== undefined) m.grad_norm = e.gradNorm;
      if (e.epoch !== undefined) m.epoch = e.epoch;
      for (const [k, v] of Object.entries(e.metrics ?? {})) m[k] = v;
      check(store.recordMetrics(e.runId, e.step, m));
    },
    onEval(e) {
      const m = Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [`eval/${e.split}/${k}`, v]));
      check(store.recordMetrics(e.runId, e.step, m, false));
    },
    onSave(e) {
      check(store.addArtifact(e.runId, { kind: e.kind, path: e.path, step: e.step }));
    },
    onRunEnd(e) {
      check(store.endRun(e.runId, e.status, { step: e.step, error: e.error?.message }));
    },
  };
}
