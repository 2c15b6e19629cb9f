// What `lft runs` and `lft runs show ID` print: a table of runs, and one run's record with its loss
// curve (and evaluation loss, when there is one) as braille plots.

import { err, ok, type Result } from "neverthrow";
import { formatDuration, type RunRecord, type RunStore, type StoreError } from "../../core/index.ts";
import { linePlot } from "./plot.ts";

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
  for (const r of runs)
    rows.push([r.id, r.name, r.status, `${r.step}/${r.totalSteps ?? "?"}`, lastValue(store, r.id, "loss"), when(r.startedAt), duration(r, now)]);
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
  if (loss.length === 0) out.push("no loss recorded yet");
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
