// Line charts as inline SVG: one metric, one or more series (a run, or runs compared), redrawn whole
// whenever a point arrives (a few thousand points at most, so redrawing is cheaper than diffing).

import type { Series } from "./api.ts";
import { tickLabel } from "./text.ts";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 480;
const HEIGHT = 200;
const PAD = { left: 56, right: 12, top: 22, bottom: 26 };
export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

export interface NamedSeries {
  readonly name: string;
  readonly points: Series;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Draws `series` (same metric) into a fresh <svg>; data-points holds the point count for tests and tools. */
export function lineChart(title: string, series: readonly NamedSeries[]): SVGSVGElement {
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img", "aria-label": title });
  root.dataset.testid = `chart-${title}`;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  root.dataset.points = String(all.length);
  root.appendChild(svg("text", { x: PAD.left, y: 14, class: "chart-title" }, title));
  if (all.length === 0) {
    root.appendChild(svg("text", { x: WIDTH / 2, y: HEIGHT / 2, class: "chart-empty", "text-anchor": "middle" }, "no points yet"));
    return root;
  }
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of all) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.05, y1 + Math.abs(y1 || 1) * 0.05];
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (WIDTH - PAD.left - PAD.right);
  const sy = (y: number) => HEIGHT - PAD.bottom - ((y - y0) / (y1 - y0)) * (HEIGHT - PAD.top - PAD.bottom);

  const axes = svg("g", { class: "chart-axes" });
  axes.appendChild(svg("rect", { x: PAD.left, y: PAD.top, width: WIDTH - PAD.left - PAD.right, height: HEIGHT - PAD.top - PAD.bottom }));
  for (const y of [y0, (y0 + y1) / 2, y1]) {
    axes.appendChild(svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: sy(y), y2: sy(y), class: "chart-grid" }));
    axes.appendChild(svg("text", { x: PAD.left - 4, y: sy(y) + 4, "text-anchor": "end" }, tickLabel(y)));
  }
  axes.appendChild(svg("text", { x: sx(x0), y: HEIGHT - 8, "text-anchor": "start" }, `step ${Math.round(x0)}`));
  axes.appendChild(svg("text", { x: sx(x1), y: HEIGHT - 8, "text-anchor": "end" }, `step ${Math.round(x1)}`));
  root.appendChild(axes);

  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length === 0) return;
    const d = pts.map(([x, y], j) => `${j === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join("");
    root.appendChild(svg("path", { d, stroke: color, class: "chart-line" }));
    if (pts.length === 1) root.appendChild(svg("circle", { cx: sx(pts[0]![0]), cy: sy(pts[0]![1]), r: 3, fill: color }));
    if (series.length > 1)
      root.appendChild(svg("text", { x: WIDTH - PAD.right - 4, y: PAD.top + 14 + i * 14, style: `fill: ${color}`, "text-anchor": "end" }, `— ${s.name}`));
  });
  return root;
}
