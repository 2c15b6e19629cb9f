// The progress bar on stderr, as a set of run handlers: on a terminal one line rewritten each step
// (step/total, bar, loss, lr, tokens/s, ETA); when stderr is not a terminal or CI is set, one plain
// line every `every` steps instead, so logs stay readable.
import type { EvalEvent, RunEndEvent, RunStartEvent, SaveEvent, StepEvent } from "../registry/hooks.ts";
import type { RunHandlers } from "./events.ts";

export interface ProgressStream {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressOptions {
  /** Default process.stderr. */
  readonly stream?: ProgressStream;
  /** Plain-line mode: print every this many steps (and the last). Default 10. */
  readonly every?: number;
  /** Environment consulted for CI (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Bar width in cells. Default 20. */
  readonly barWidth?: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

function formatRate(x: number): string {
  if (!Number.isFinite(x)) return "?";
  return x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
}

function bar(done: number, total: number, width: number): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const cells = f * width;
  const full = Math.floor(cells);
  const partial = " ▏▎▍▌▋▊▉"[Math.floor((cells - full) * 8)] ?? "";
  return "█".repeat(full) + (full < width ? partial : "") + " ".repeat(Math.max(0, width - full - 1));
}

function ciOn(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env.CI;
  return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

export function progressHandlers(o: ProgressOptions = {}): RunHandlers {
  const stream = o.stream ?? process.stderr;
  const env = o.env ?? process.env;
  const live = Boolean(stream.isTTY) && !ciOn(env);
  const every = Math.max(1, o.every ?? 10);
  const width = o.barWidth ?? 20;
  let total = 0;
  let firstStep = 0;
  let tokens = 0;
  let lineOpen = false;
  const clear = (): void => {
    if (lineOpen) stream.write("\r\x1b[2K");
    lineOpen = false;
  };
  const say = (s: string): void => {
    clear();
    stream.write(`${s}\n`);
  };
  return {
    name: "progress",
    onRunStart(e: RunStartEvent) {
      total = e.totalSteps ?? 0;
      firstStep = e.resumedFromStep ?? 0;
      say(`run ${e.runId}: ${total || "?"} steps${e.resumedFromStep ? `, resuming after step ${e.resumedFromStep}` : ""}`);
    },
    onStep(e: StepEvent) {
      // Throughput and ETA from this process's steps only (elapsedMs counts from this process's start).
      tokens += e.tokens;
      const done = e.step - firstStep;
      const rate = e.elapsedMs > 0 ? (tokens * 1000) / e.elapsedMs : Number.NaN;
      const eta = total > 0 && done > 0 ? (e.elapsedMs / done) * (total - e.step) : Number.NaN;
      const loss = Number.isFinite(e.loss) ? e.loss.toFixed(4) : String(e.loss);
      const own = Object.entries(e.metrics ?? {})
        .map(([k, v]) => `  ${k} ${Number.isFinite(v) ? v.toFixed(4) : String(v)}`)
        .join("");
      const stats = `loss ${loss}${own}  lr ${e.lr.toExponential(2)}  ${formatRate(rate)} tok/s  ETA ${formatDuration(eta)}`;
      const count = `${String(e.step).padStart(String(total || e.step).length)}/${total || "?"}`;
      if (live) {
        stream.write(`\r\x1b[2Kstep ${count} ${bar(e.step, total, width)} ${stats}`);
        lineOpen = true;
      } else if (e.step % every === 0 || e.step === total) {
        say(`step ${count}  ${stats}`);
      }
    },
    onEval(e: EvalEvent) {
      const parts = Object.entries(e.metrics).map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(4) : String(v)}`);
      say(`eval ${e.split} @ step ${e.step}: ${parts.join("  ")}`);
    },
    onSave(e: SaveEvent) {
      if (!live) return;
      say(`saved ${e.kind} at step ${e.step}: ${e.path}`);
    },
    onRunEnd(e: RunEndEvent) {
      say(`run ${e.runId} ${e.status} at step ${e.step} after ${formatDuration(e.elapsedMs)}${e.error ? `: ${e.error.message}` : ""}`);
    },
  };
}
