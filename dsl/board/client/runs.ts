// The Runs pages: every run in the store with its status; one run live (run-view.ts); and two or more
// runs compared, each metric's curves overlaid.

import { api, type RunRecord } from "./api.ts";
import { lineChart } from "./chart.ts";
import { fill, h } from "./dom.ts";
import { runView, statusBadge } from "./run-view.ts";
import { formatTime, metricOrder } from "./text.ts";

const REFRESH_MS = 3000;

function stepText(run: RunRecord): string {
  return run.totalSteps ? `${run.step} / ${run.totalSteps}` : String(run.step);
}

/** Returns a cleanup that stops the table's refresh. */
export function runsPage(root: HTMLElement): () => void {
  const body = h("tbody", { testid: "runs-body" });
  const note = h("p", { class: "muted", testid: "runs-note" });
  const chosen = new Set<string>();
  const compareButton = h("button", { testid: "compare", disabled: true }, "Compare selected");
  compareButton.addEventListener("click", () => {
    location.hash = `#/compare/${[...chosen].map(encodeURIComponent).join(",")}`;
  });

  async function refresh(): Promise<void> {
    const reply = await api.runs();
    if (!reply.ok) {
      note.textContent = reply.message;
      return;
    }
    note.textContent = reply.data.runs.length === 0 ? "No runs yet: launch one from the Train page or with ./lft RECIPE." : "";
    fill(
      body,
      ...reply.data.runs.map((run) => {
        const box = h("input", { type: "checkbox", testid: `select-${run.id}`, checked: chosen.has(run.id) });
        box.addEventListener("change", () => {
          if (box.checked) chosen.add(run.id);
          else chosen.delete(run.id);
          compareButton.disabled = chosen.size < 2;
        });
        return h(
          "tr",
          { testid: `run-row-${run.id}` },
          h("td", {}, box),
          h("td", {}, h("a", { href: `#/runs/${encodeURIComponent(run.id)}`, testid: "run-link" }, run.id)),
          h("td", {}, run.name),
          h("td", {}, statusBadge(run.status)),
          h("td", {}, stepText(run)),
          h("td", {}, formatTime(run.startedAt)),
          h("td", {}, formatTime(run.endedAt)),
        );
      }),
    );
  }

  fill(
    root,
    h("div", { class: "buttons" }, h("h2", {}, "Runs"), compareButton),
    h(
      "table",
      { class: "runs", testid: "runs-table" },
      h("thead", {}, h("tr", {}, ...["", "id", "name", "status", "step", "started", "ended"].map((c) => h("th", {}, c)))),
      body,
    ),
    note,
  );
  void refresh();
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  return () => clearInterval(timer);
}

export function runPage(root: HTMLElement, id: string): () => void {
  const view = runView(id);
  const recipe = h("pre", { class: "recipe-view", testid: "run-recipe" });
  void api.run(id).then((r) => {
    if (r.ok && r.data.run.recipe) recipe.textContent = r.data.run.recipe;
  });
  fill(root, h("p", {}, h("a", { href: "#/runs" }, "← all runs")), view.element, h("h3", {}, "Recipe"), recipe);
  return () => view.close();
}

export async function comparePage(root: HTMLElement, ids: readonly string[]): Promise<void> {
  const reply = await api.compare(ids);
  if (!reply.ok) {
    fill(root, h("p", { class: "error", testid: "page-error" }, reply.message));
    return;
  }
  const runs = reply.data.runs;
  const names = metricOrder([...new Set(runs.flatMap((r) => Object.keys(r.metrics)))]);
  fill(
    root,
    h("p", {}, h("a", { href: "#/runs" }, "← all runs")),
    h("h2", {}, `Comparing ${runs.map((r) => r.run.id).join(", ")}`),
    h(
      "div",
      { class: "charts", testid: "compare-charts" },
      ...names.map((name) =>
        lineChart(
          name,
          runs.map((r) => ({ name: r.run.id, points: r.metrics[name] ?? [] })),
        ),
      ),
    ),
  );
}
