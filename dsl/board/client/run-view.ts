// One run, live: status, a chart per metric (loss, lr, grad_norm, eval_loss, ...) and the log tail,
// loaded from /api/runs/:id and then kept current by its server-sent events until the run ends.

import { api, type Metrics, type RunRecord } from "./api.ts";
import { lineChart } from "./chart.ts";
import { fill, h } from "./dom.ts";
import { metricOrder } from "./text.ts";

const LOG_LINES = 400;

export interface RunView {
  readonly element: HTMLElement;
  close(): void;
}

/** A run still going: "starting" is a board launch whose process has not recorded its run yet. */
export function isLive(status: string): boolean {
  return status === "running" || status === "starting";
}

export function statusBadge(status: string): HTMLElement {
  return h("span", { class: `status status-${status}`, testid: "run-status" }, status);
}

export function runView(id: string, onEnd?: (status: string) => void): RunView {
  const metrics: Record<string, [number, number][]> = {};
  const log: string[] = [];
  const head = h("div", { class: "run-head" });
  const charts = h("div", { class: "charts", testid: "charts" });
  const logBox = h("pre", { class: "log", testid: "run-log" });
  const element = h("section", { class: "run-view", testid: `run-view-${id}` }, head, charts, h("h3", {}, "Log"), logBox);
  let run: RunRecord | undefined;
  let events: EventSource | undefined;
  let closed = false;

  const drawHead = (status: string, step: number) =>
    fill(
      head,
      h("h2", {}, `Run `, h("a", { href: `#/runs/${encodeURIComponent(id)}` }, id)),
      statusBadge(status),
      h("span", { class: "step", testid: "run-step" }, `step ${step}${run?.totalSteps ? ` / ${run.totalSteps}` : ""}`),
      run?.error ? h("p", { class: "error" }, run.error) : null,
    );
  const drawCharts = () => fill(charts, ...metricOrder(Object.keys(metrics)).map((name) => lineChart(name, [{ name, points: metrics[name]! }])));
  const drawLog = () => {
    logBox.textContent = log.slice(-LOG_LINES).join("\n");
    logBox.scrollTop = logBox.scrollHeight;
  };

  function listen(): void {
    // The stream starts with the whole log so far: it replaces the snapshot's tail.
    log.length = 0;
    events = new EventSource(`/api/runs/${encodeURIComponent(id)}/events`);
    events.addEventListener("metric", (e) => {
      const { step, name, value } = JSON.parse((e as MessageEvent).data) as { step: number; name: string; value: number };
      metrics[name] ??= [];
      const series = metrics[name];
      const last = series.at(-1);
      // The stream may resend points the snapshot already holds; keep steps increasing.
      if (last && last[0] >= step) return;
      series.push([step, value]);
      drawCharts();
    });
    events.addEventListener("status", (e) => {
      const { status, step } = JSON.parse((e as MessageEvent).data) as { status: string; step: number };
      drawHead(status, step);
      if (!isLive(status)) finish(status);
    });
    events.addEventListener("log", (e) => {
      log.push((JSON.parse((e as MessageEvent).data) as { line: string }).line);
      drawLog();
    });
    // The server closes the stream when the run ends; EventSource would reconnect, so stop it.
    events.addEventListener("error", () => {
      if (events?.readyState === EventSource.CLOSED || closed) return;
      events?.close();
      void api.run(id).then((r) => {
        if (closed || !r.ok) return;
        if (!isLive(r.data.run.status)) {
          drawHead(r.data.run.status, r.data.run.step);
          finish(r.data.run.status);
        } else setTimeout(listen, 1000);
      });
    });
  }

  function finish(status: string): void {
    events?.close();
    onEnd?.(status);
  }

  // A run just launched may not be in the store yet: its process records it as it starts.
  const load = async (attempt: number): Promise<void> => {
    const reply = await api.run(id);
    if (closed) return;
    if (!reply.ok && reply.status === 404 && attempt < 40) {
      fill(head, h("p", { class: "muted" }, `waiting for run ${id} to start…`));
      setTimeout(() => void load(attempt + 1), 500);
      return;
    }
    if (!reply.ok) {
      fill(head, h("p", { class: "error", testid: "run-error" }, reply.message));
      return;
    }
    run = reply.data.run;
    for (const [name, points] of Object.entries(reply.data.metrics as Metrics)) metrics[name] = points.map(([s, v]) => [s, v]);
    log.push(...reply.data.log);
    drawHead(run.status, run.step);
    drawCharts();
    drawLog();
    if (isLive(run.status)) listen();
    else onEnd?.(run.status);
  };
  void load(0);

  return {
    element,
    close() {
      closed = true;
      events?.close();
    },
  };
}
