// What `lft runs` and `lft runs show ID` print: a table of runs, and one run's record with its loss
// curve (and evaluation loss, when there is one) as braille plots; `--json` gives the runs as data;
// `compare A B` overlays the runs' loss curves on one set of axes.

import { err, ok, type Result } from "neverthrow";
import { formatDuration, type RunRecord, type RunStore, type StoreError } from "../../core/index.ts";
import { linePlot, overlayLegend, overlayPlot } from "./plot.ts";

function when(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function duration(r: RunRecord, now: number): string {
  return formatDuration((r.endedAt ?? now) - r.startedAt);
}

function lastValue(store: RunStore, id: string, name: string): string {
  const pts = store.metric(id, name);
  const v = pts.at(-1)?.value;
  return v === undefined ? "-" : v.toFixed(4);
}

/** The loss a run shows in the list: its training loss, else (an eval-only run) its evaluation loss. */
function listedLoss(store: RunStore, id: string): string {
  const train = lastValue(store, id, "loss");
  return train !== "-" ? train : lastValue(store, id, "eval/loss");
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `lft runs`: newest first. */
export function formatRunList(store: RunStore, limit = 50, now = Date.now()): string {
  const runs = store.listRuns(limit);
  if (runs.length === 0) return `no runs in ${store.path}`;
  const rows = [["ID", "NAME", "STATUS", "STEP", "LOSS", "STARTED", "TIME"]];
  for (const r of runs) rows.push([r.id, r.name, r.status, `${r.step}/${r.totalSteps ?? "?"}`, listedLoss(store, r.id), when(r.startedAt), duration(r, now)]);
  return table(rows);
}

/** `lft runs show ID` (an id or a unique prefix). */
export function formatRunShow(store: RunStore, idOrPrefix: string, o: { width?: number; height?: number; now?: number } = {}): Result<string, StoreError> {
  const found = store.getRun(idOrPrefix);
  if (found.isErr()) return err(found.error);
  const r = found.value;
  const out: string[] = [
    `run       ${r.id}${r.name !== r.id ? ` (${r.name})` : ""}`,
    `status    ${r.status}${r.error ? ` — ${r.error}` : ""}`,
    `steps     ${r.step}/${r.totalSteps ?? "?"}`,
    `started   ${when(r.startedAt)}   ended ${when(r.endedAt)}   (${duration(r, o.now ?? Date.now())})`,
    `config    ${r.configHash ?? "-"}   git ${r.gitRevision ?? "-"}`,
  ];
  const params = Object.entries(store.params(r.id));
  if (params.length) out.push("", "params", ...params.map(([k, v]) => `  ${k} = ${v}`));
  const loss = store.metric(r.id, "loss");
  out.push("");
  // A run of its own for an eval or predict (no training steps): its metrics are all it has to show.
  const actionMetrics = loss.length === 0 && r.totalSteps === 0 ? store.metricNames(r.id) : [];
  if (actionMetrics.length > 0)
    out.push("metrics", ...actionMetrics.map((n) => `  ${n} = ${Number((store.metric(r.id, n).at(-1)?.value ?? Number.NaN).toFixed(4))}`));
  else if (loss.length === 0) out.push("no loss recorded yet");
  else {
    out.push(`loss (${loss.length} steps, last ${loss.at(-1)!.value.toFixed(4)}, min ${Math.min(...loss.map((p) => p.value)).toFixed(4)})`);
    out.push(
      linePlot(
        loss.map((p) => p.value),
        { xs: loss.map((p) => p.step), width: o.width, height: o.height },
      ),
    );
  }
  for (const name of store.metricNames(r.id).filter((n) => n.startsWith("eval/") && n.endsWith("/loss"))) {
    const pts = store.metric(r.id, name);
    out.push("", `${name} (${pts.length} evaluations, last ${pts.at(-1)!.value.toFixed(4)})`);
    if (pts.length > 1)
      out.push(
        linePlot(
          pts.map((p) => p.value),
          { xs: pts.map((p) => p.step), width: o.width, height: Math.max(3, Math.floor((o.height ?? 12) / 2)) },
        ),
      );
  }
  const arts = store.artifacts(r.id);
  if (arts.length) out.push("", "artifacts", ...arts.map((a) => `  ${a.kind}${a.step === null ? "" : ` @${a.step}`}  ${a.path}`));
  return ok(out.join("\n"));
}

/** `lft runs --json`: the runs, newest first, each with the last value of every metric it recorded. */
export function runsJson(store: RunStore, limit = 50): unknown[] {
  return store
    .listRuns(limit)
    .map((r) => ({
      ...r,
      metrics: Object.fromEntries(store.metricNames(r.id).map((n) => [n, store.metric(r.id, n).at(-1)?.value ?? null])),
      artifacts: store.artifacts(r.id),
    }));
}

/** `lft runs compare A B...`: the runs' loss curves overlaid, with a line per run (final and lowest loss). */
export function formatRunCompare(
  store: RunStore,
  ids: readonly string[],
  o: { width?: number; height?: number; colour?: boolean; metric?: string } = {},
): Result<string, StoreError> {
  const runs: RunRecord[] = [];
  for (const id of ids) {
    const found = store.getRun(id);
    if (found.isErr()) return err(found.error);
    runs.push(found.value);
  }
  const metric = o.metric ?? "loss";
  const curves = runs.map((r) => store.metric(r.id, metric));
  const colour = o.colour === true;
  const out: string[] = [];
  const w = Math.max(...runs.map((r) => r.id.length));
  runs.forEach((r, k) => {
    const pts = curves[k]!;
    const summary =
      pts.length === 0
        ? `no ${metric} recorded`
        : `${metric} last ${pts.at(-1)!.value.toFixed(4)}, min ${Math.min(...pts.map((p) => p.value)).toFixed(4)} over ${pts.length} steps`;
    out.push(`${r.id.padEnd(w)}  ${r.status.padEnd(11)}  ${summary}${r.name !== r.id ? `  (${r.name})` : ""}`);
  });
  if (curves.every((c) => c.length === 0)) return ok([...out, "", `nothing to plot: none of these runs recorded ${metric}`].join("\n"));
  out.push(
    "",
    overlayPlot(
      curves.map((c) => ({ ys: c.map((p) => p.value), xs: c.map((p) => p.step) })),
      { width: o.width, height: o.height ?? 14, colour },
    ),
    overlayLegend(
      runs.map((r) => r.id),
      colour,
    ),
  );
  return ok(out.join("\n"));
}
