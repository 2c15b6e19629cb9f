// The Runs page's data: runs from the store (and board launches whose run is not recorded yet),
// one run's metrics and log tail, several runs side by side, and a run followed live over
// server-sent events by polling the store (bun:sqlite readers never block the run's WAL writer).

import type { RunRecord, RunStore } from "../../../core/index.ts";
import { HttpError } from "./http";
import type { Launch, Launcher } from "./launcher";

export type Metrics = Record<string, [number, number][]>;

/** A board launch before its child has recorded a run (or one that failed before it could). */
export interface PendingRun {
  readonly id: string;
  readonly name: string;
  readonly recipe: null;
  readonly status: "starting" | "failed" | "completed";
  readonly startedAt: number;
  readonly endedAt: null;
  readonly step: 0;
  readonly totalSteps: null;
  readonly pid: number;
  /** Why a launch that recorded no run failed: the end of its output. */
  readonly error: string | null;
}

export interface Found {
  readonly run: RunRecord | PendingRun;
  /** The store run's id, once recorded. */
  readonly runId?: string;
  readonly launch?: Launch;
}

export function pendingRun(launch: Launch): PendingRun {
  const status = launch.exitCode === null ? "starting" : launch.exitCode === 0 ? "completed" : "failed";
  const error = status === "failed" ? `lft exited with status ${launch.exitCode}: ${launch.log.slice(-3).join(" | ")}` : null;
  return {
    id: launch.id,
    name: launch.recipePath,
    recipe: null,
    status,
    startedAt: launch.startedAt,
    endedAt: null,
    step: 0,
    totalSteps: null,
    pid: launch.pid,
    error,
  };
}

/** A run by store id (or unique prefix) or by a board launch id. */
export function findRun(id: string, store: RunStore, launcher: Launcher): Found {
  const launch = launcher.launches.get(id);
  if (launch !== undefined) {
    const run = launcher.runsOf(launch, store)[0];
    return run === undefined ? { run: pendingRun(launch), launch } : { run, runId: run.id, launch };
  }
  const run = store.getRun(id);
  if (run.isErr()) throw new HttpError(404, "not_found", run.error.message);
  const owner = launcher.launchOfRun(run.value);
  return { run: run.value, runId: run.value.id, ...(owner === undefined ? {} : { launch: owner }) };
}

export function metricsOf(store: RunStore, runId: string): Metrics {
  const out: Metrics = {};
  for (const name of store.metricNames(runId)) out[name] = store.metric(runId, name).map((p) => [p.step, p.value]);
  return out;
}

/** The last lines of a run's log: the child's output when the board launched it, else the store's events. */
export function logTail(store: RunStore, found: Found, lines = 200): string[] {
  if (found.launch !== undefined) return found.launch.log.slice(-lines);
  if (found.runId === undefined) return [];
  return store
    .events(found.runId)
    .slice(-lines)
    .map((e) => `${new Date(e.at).toISOString()} ${e.kind}: ${e.message}`);
}

export function listRuns(store: RunStore, launcher: Launcher): (RunRecord | PendingRun)[] {
  // A run whose process died without recording its end (killed, crashed) is marked so, as lft runs does.
  store.markDeadRuns();
  const runs: (RunRecord | PendingRun)[] = store.listRuns(200);
  const pending = [...launcher.launches.values()].filter((l) => launcher.runsOf(l, store).length === 0).map(pendingRun);
  return [...pending, ...runs];
}

/** How often a live run is polled, and how often an idle stream sends a keep-alive comment. */
export const pollMs = 500;
const keepAliveMs = 5000;

/**
 * `event: metric` {step, name, value}, `event: status` {status, step, runId?}, `event: log` {line};
 * the stream ends once the run has ended (and, for a board launch, its process has exited).
 */
export function runEvents(id: string, store: RunStore, launcher: Launcher, signal: AbortSignal): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let closed = false;
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (event: string, data: unknown): void => {
        if (closed) return;
        controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
        lastSent = Date.now();
      };
      const seen = new Map<string, number>();
      let logAt = 0;
      let lastStatus = "";
      let lastSent = Date.now();
      let eventCount = 0;
      signal.addEventListener("abort", () => {
        closed = true;
      });
      let polls = 0;
      try {
        while (!closed) {
          // Every few seconds: a followed run whose process died without a word ends as crashed.
          if (polls++ % 10 === 9) store.markDeadRuns();
          const found = findRun(id, store, launcher);
          if (found.launch !== undefined) {
            const { log, dropped } = found.launch;
            for (let i = Math.max(logAt, dropped) - dropped; i < log.length; i++) send("log", { line: log[i] });
            logAt = dropped + log.length;
          } else if (found.runId !== undefined) {
            const events = store.events(found.runId);
            for (const e of events.slice(eventCount)) send("log", { line: `${e.kind}: ${e.message}` });
            eventCount = events.length;
          }
          if (found.runId !== undefined) {
            for (const name of store.metricNames(found.runId)) {
              const after = seen.get(name) ?? -1;
              for (const p of store.metric(found.runId, name)) {
                if (p.step <= after) continue;
                send("metric", { step: p.step, name, value: p.value });
                seen.set(name, p.step);
              }
            }
          }
          const run = found.run;
          const status = `${run.status}:${run.step}`;
          if (status !== lastStatus) {
            send("status", { status: run.status, step: run.step, ...(found.runId === undefined ? {} : { runId: found.runId }) });
            lastStatus = status;
          }
          const runEnded = run.status !== "running" && run.status !== "starting";
          const processEnded = found.launch === undefined || found.launch.exitCode !== null;
          if (runEnded && processEnded) break;
          if (Date.now() - lastSent > keepAliveMs && !closed) {
            controller.enqueue(encoder.encode(": keep-alive\n\n"));
            lastSent = Date.now();
          }
          await Bun.sleep(pollMs);
        }
      } catch (cause) {
        send("error", { message: cause instanceof Error ? cause.message : String(cause) });
      }
      if (!closed) {
        closed = true;
        controller.close();
      }
    },
    cancel() {
      closed = true;
    },
  });
}
