// What a train action prints: a tracker fed by the loop's events (tokens, time, the last evaluation)
// and the summary line built from it and the loop's result.
import type { RunHandlers, TrainResult } from "../../core/index.ts";
import { count, loss, plural, seconds } from "./format.ts";

export interface RunTracker {
  readonly handlers: RunHandlers;
  readonly tokens: () => number;
  readonly elapsedMs: () => number;
  /** The last evaluation's loss and step, if the run evaluated. */
  readonly lastEval: () => { loss: number; step: number } | undefined;
}

export function runTracker(): RunTracker {
  let tokens = 0;
  let elapsedMs = 0;
  let lastEval: { loss: number; step: number } | undefined;
  return {
    handlers: {
      name: "runner-summary",
      onStep: (e) => {
        tokens += e.tokens;
        elapsedMs = e.elapsedMs;
      },
      onEval: (e) => {
        if (e.metrics.loss !== undefined) lastEval = { loss: e.metrics.loss, step: e.step };
      },
    },
    tokens: () => tokens,
    elapsedMs: () => elapsedMs,
    lastEval: () => lastEval,
  };
}

export interface SummaryInput {
  readonly where: string;
  readonly result: TrainResult;
  readonly tracker: RunTracker;
  readonly samples: number;
  readonly batch: number;
  readonly accumulate: number;
}

/** `train sft: 80 steps (20 epochs of 16 samples, batch 4) in 3.2s, 3,883 tokens/s; loss 4.5892 → 0.0198 (...)`. */
export function trainSummary(s: SummaryInput): string {
  const { result: r, tracker } = s;
  const losses = r.losses.filter(Number.isFinite);
  const tail = losses.slice(-Math.min(10, losses.length));
  const mean = tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
  const ms = tracker.elapsedMs();
  const rate = ms > 0 ? count((tracker.tokens() * 1000) / ms) : "?";
  const epochs = (r.step * s.batch * s.accumulate) / s.samples;
  const resumed = r.resumedFromStep === undefined ? "" : ` (resumed after step ${r.resumedFromStep})`;
  const batch = `batch ${s.batch}${s.accumulate > 1 ? ` × ${s.accumulate} accumulated` : ""}`;
  const ev = tracker.lastEval();
  const held = ev === undefined ? "" : `; held-out loss ${loss(ev.loss)} (perplexity ${Math.exp(ev.loss).toFixed(3)}) at step ${ev.step}`;
  return `${s.where}: ${plural(r.step, "step")}${resumed} (${epochs.toFixed(epochs >= 10 ? 0 : 2)} epochs of ${count(s.samples)} samples, ${batch}) in ${seconds(ms)}, ${rate} tokens/s; loss ${loss(losses[0] ?? Number.NaN)} → ${loss(losses.at(-1) ?? Number.NaN)} (mean of the last ${tail.length}: ${loss(mean)})${held}`;
}
