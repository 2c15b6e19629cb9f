// trainer_state.json: where a run stands (step, epoch, tokens), its loss and eval history and best
// metric, and the counters the NaN guard keeps. Losses of skipped steps are stored as null (JSON has no NaN).
import { err, ok, type Result } from "neverthrow";

export interface LossRecord {
  readonly step: number;
  /** NaN (null in JSON) for a step the guard skipped. */
  readonly loss: number;
  readonly lr: number;
  readonly tokens: number;
  readonly gradNorm: number;
  readonly skipped: boolean;
  /** The stage's metrics of the step (averaged over micro-batches), when it reports any. */
  readonly metrics?: Readonly<Record<string, number>>;
}

export interface EvalRecord {
  readonly step: number;
  readonly split: string;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface TrainerState {
  runId: string;
  step: number;
  totalSteps: number;
  epoch: number | null;
  tokensSeen: number;
  skippedSteps: number;
  consecutiveSkipped: number;
  lossHistory: LossRecord[];
  evalHistory: EvalRecord[];
  /** Best value of the tracked evaluation metric so far (eval_loss, lowest, unless the run names another). */
  best: { metric: string; value: number; step: number } | null;
  /** Evaluations since the best one (the early-stopping patience counter). */
  sinceBest: number;
  /** Why the run stopped before its last step (early stopping), or null. */
  stopReason: string | null;
  /** Names of the trainable parameters, in optimizer order (a resumed run must train the same set). */
  paramNames: string[];
}

const FORMAT = 1;

export function freshState(runId: string, totalSteps: number, paramNames: string[]): TrainerState {
  return {
    runId,
    step: 0,
    totalSteps,
    epoch: null,
    tokensSeen: 0,
    skippedSteps: 0,
    consecutiveSkipped: 0,
    lossHistory: [],
    evalHistory: [],
    best: null,
    sinceBest: 0,
    stopReason: null,
    paramNames,
  };
}

/** JSON has no NaN: a non-finite metric is stored as null and read back as NaN. */
function finiteMetrics(m: Readonly<Record<string, unknown>>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === "number" ? v : Number.NaN]));
}

/**
 * Hugging Face Trainer's `log_history` built from the histories (one entry per step, then the evaluations
 * in step order), for tools that read checkpoint-N/trainer_state.json. Written only: lft resumes from
 * lossHistory and evalHistory.
 */
export function logHistory(s: TrainerState): Record<string, number | null>[] {
  const steps = s.lossHistory.map((r) => ({
    ...(Number.isFinite(r.gradNorm) ? { grad_norm: r.gradNorm } : {}),
    learning_rate: r.lr,
    loss: Number.isFinite(r.loss) ? r.loss : null,
    step: r.step,
  }));
  const evals = s.evalHistory.map((e) => ({
    ...Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [`eval_${k}`, Number.isFinite(v) ? v : null])),
    step: e.step,
  }));
  return [...steps, ...evals].sort((a, b) => a.step - b.step);
}

export function stateToJson(s: TrainerState): unknown {
  return {
    format: FORMAT,
    global_step: s.step,
    max_steps: s.totalSteps,
    log_history: logHistory(s),
    ...s,
    lossHistory: s.lossHistory.map((r) => ({
      ...r,
      loss: Number.isFinite(r.loss) ? r.loss : null,
      gradNorm: Number.isFinite(r.gradNorm) ? r.gradNorm : null,
      ...(r.metrics ? { metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : null])) } : {}),
    })),
  };
}

export function stateFromJson(raw: unknown, file: string): Result<TrainerState, Error> {
  const o = raw as Record<string, unknown> | null;
  const bad = (what: string) => err(new Error(`${file}: ${what}`));
  if (typeof o !== "object" || o === null) return bad("expected a JSON object");
  if (o.format !== FORMAT) return bad(`format ${String(o.format)} is not the one this lft writes (${FORMAT})`);
  for (const k of ["step", "totalSteps", "tokensSeen", "skippedSteps", "consecutiveSkipped"]) {
    if (!Number.isInteger(o[k]) || (o[k] as number) < 0) return bad(`${k} must be a non-negative integer, found ${JSON.stringify(o[k])}`);
  }
  if (typeof o.runId !== "string") return bad("runId must be a string");
  if (!Array.isArray(o.lossHistory) || !Array.isArray(o.evalHistory) || !Array.isArray(o.paramNames))
    return bad("lossHistory, evalHistory and paramNames must be lists");
  const lossHistory: LossRecord[] = [];
  for (const r of o.lossHistory as Record<string, unknown>[]) {
    if (!Number.isInteger(r?.step) || !(r.loss === null || typeof r.loss === "number") || typeof r.lr !== "number")
      return bad(`bad lossHistory entry ${JSON.stringify(r)}`);
    lossHistory.push({
      step: r.step as number,
      loss: r.loss === null ? Number.NaN : (r.loss as number),
      lr: r.lr,
      tokens: Number(r.tokens ?? 0),
      gradNorm: typeof r.gradNorm === "number" ? r.gradNorm : Number.NaN,
      skipped: r.skipped === true,
      ...(typeof r.metrics === "object" && r.metrics !== null ? { metrics: finiteMetrics(r.metrics as Record<string, unknown>) } : {}),
    });
  }
  return ok({
    runId: o.runId,
    step: o.step as number,
    totalSteps: o.totalSteps as number,
    epoch: typeof o.epoch === "number" ? o.epoch : null,
    tokensSeen: o.tokensSeen as number,
    skippedSteps: o.skippedSteps as number,
    consecutiveSkipped: o.consecutiveSkipped as number,
    lossHistory,
    evalHistory: o.evalHistory as EvalRecord[],
    best: (o.best as TrainerState["best"]) ?? null,
    sinceBest: Number.isInteger(o.sinceBest) ? (o.sinceBest as number) : 0,
    stopReason: typeof o.stopReason === "string" ? o.stopReason : null,
    paramNames: o.paramNames as string[],
  });
}
