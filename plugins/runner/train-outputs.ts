// The files people's tools read, written into the run's output folder as the run goes:
// LLaMA-Factory's trainer_log.jsonl and training_loss.png / training_eval_loss.png, Hugging Face
// Trainer's train_results.json, eval_results.json, all_results.json and trainer_state.json (with
// `log_history`), and TensorBoard event files under runs/ when `report_to = tensorboard`.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunHandlers } from "../../core/index.ts";
import { lossPlotPng } from "./png.ts";
import { type EventWriter, eventWriter } from "./tensorboard.ts";

export interface OutputOptions {
  readonly dir: string;
  readonly totalSteps: number;
  readonly logEvery: number;
  readonly samples: number;
  /** Samples per optimizer step (batch × accumulation): epochs are steps × this / samples. */
  readonly samplesPerStep: number;
  readonly batch: number;
  readonly evalEvery: number;
  readonly saveEvery: number;
  readonly tensorboard: boolean;
  /** A resumed run appends to trainer_log.jsonl (as LF keeps it when resuming) instead of starting it over. */
  readonly resume: boolean;
}

type LogEntry = Record<string, number>;

/** `0:01:05` like Python's str(timedelta) of whole seconds, as LF writes elapsed/remaining time. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

export interface RunOutputs {
  readonly handlers: RunHandlers;
  /** Writes the results files, trainer_state.json and the plots; `losses` are the run's per-step losses. */
  finish(end: { step: number; losses: readonly number[]; elapsedMs: number }): void;
  readonly logHistory: () => readonly LogEntry[];
}

export function runOutputs(o: OutputOptions): RunOutputs {
  mkdirSync(o.dir, { recursive: true });
  const logFile = join(o.dir, "trainer_log.jsonl");
  if (!o.resume) writeFileSync(logFile, "");
  const tb: EventWriter | undefined = o.tensorboard ? eventWriter(join(o.dir, "runs")) : undefined;
  const history: LogEntry[] = [];
  const window: number[] = [];
  let tokens = 0;
  let lastEval: Record<string, number> | undefined;
  const epochOf = (step: number) => round((step * o.samplesPerStep) / Math.max(1, o.samples), 4);
  const line = (step: number, elapsedMs: number, fields: Record<string, number>) => {
    const remaining = step > 0 ? (elapsedMs / step) * (o.totalSteps - step) : 0;
    const entry = {
      current_steps: step,
      total_steps: o.totalSteps,
      ...fields,
      epoch: epochOf(step),
      percentage: o.totalSteps > 0 ? round((step / o.totalSteps) * 100, 2) : 100,
      elapsed_time: clock(elapsedMs),
      remaining_time: clock(remaining),
      ...(tokens > 0 && elapsedMs > 0 ? { throughput: round(tokens / (elapsedMs / 1000), 2), total_tokens: tokens } : {}),
    };
    appendFileSync(logFile, `${JSON.stringify(entry)}\n`);
  };
  const handlers: RunHandlers = {
    name: "runner-outputs",
    onStep: (e) => {
      tokens += e.tokens;
      if (Number.isFinite(e.loss)) window.push(e.loss);
      if (e.step % o.logEvery !== 0 && e.step !== o.totalSteps) return;
      const loss = window.length > 0 ? window.reduce((a, b) => a + b, 0) / window.length : Number.NaN;
      window.length = 0;
      const entry: LogEntry = {
        epoch: epochOf(e.step),
        ...(e.gradNorm !== undefined && Number.isFinite(e.gradNorm) ? { grad_norm: e.gradNorm } : {}),
        learning_rate: e.lr,
        loss: round(loss, 4),
        ...(e.metrics ?? {}),
        step: e.step,
      };
      history.push(entry);
      line(e.step, e.elapsedMs, { loss: round(loss, 4), lr: e.lr });
      tb?.scalars(e.step, { "train/loss": loss, "train/learning_rate": e.lr, ...(e.gradNorm !== undefined ? { "train/grad_norm": e.gradNorm } : {}) });
    },
    onEval: (e) => {
      const metrics: Record<string, number> = Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [`eval_${k}`, v]));
      if (e.metrics.loss !== undefined) metrics.eval_perplexity = Math.exp(e.metrics.loss);
      lastEval = { epoch: epochOf(e.step), ...metrics };
      history.push({ ...lastEval, step: e.step });
      if (e.metrics.loss !== undefined) line(e.step, e.elapsedMs, { eval_loss: round(e.metrics.loss, 4) });
      tb?.scalars(e.step, Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [`eval/${k}`, v])));
    },
  };
  const json = (name: string, value: unknown) => writeFileSync(join(o.dir, name), `${JSON.stringify(value, null, 2)}\n`);
  return {
    handlers,
    logHistory: () => history,
    finish(end) {
      const finite = end.losses.filter(Number.isFinite);
      const seconds = end.elapsedMs / 1000;
      const train = {
        epoch: epochOf(end.step),
        total_flos: 0,
        train_loss: finite.reduce((a, b) => a + b, 0) / Math.max(1, finite.length),
        train_runtime: round(seconds, 4),
        train_samples_per_second: seconds > 0 ? round((end.step * o.samplesPerStep) / seconds, 3) : 0,
        train_steps_per_second: seconds > 0 ? round(end.step / seconds, 3) : 0,
      };
      history.push({ ...train, step: end.step });
      json("train_results.json", train);
      if (lastEval) json("eval_results.json", lastEval);
      json("all_results.json", { ...train, ...(lastEval ?? {}) });
      const evals = history.filter((h) => h.eval_loss !== undefined);
      const best = evals.reduce<LogEntry | undefined>((b, h) => (b === undefined || (h.eval_loss as number) < (b.eval_loss as number) ? h : b), undefined);
      json("trainer_state.json", {
        best_metric: best?.eval_loss ?? null,
        best_model_checkpoint: null,
        epoch: epochOf(end.step),
        eval_steps: o.evalEvery,
        global_step: end.step,
        is_hyper_param_search: false,
        is_local_process_zero: true,
        is_world_process_zero: true,
        log_history: history,
        logging_steps: o.logEvery,
        max_steps: o.totalSteps,
        num_input_tokens_seen: tokens,
        num_train_epochs: Math.ceil(epochOf(o.totalSteps)),
        save_steps: o.saveEvery,
        total_flos: 0,
        train_batch_size: o.batch,
      });
      const losses = history.filter((h) => h.loss !== undefined && h.train_loss === undefined);
      if (losses.length > 0)
        writeFileSync(
          join(o.dir, "training_loss.png"),
          lossPlotPng(
            losses.map((h) => h.step as number),
            losses.map((h) => h.loss as number),
          ),
        );
      if (evals.length > 0)
        writeFileSync(
          join(o.dir, "training_eval_loss.png"),
          lossPlotPng(
            evals.map((h) => h.step as number),
            evals.map((h) => h.eval_loss as number),
          ),
        );
    },
  };
}
