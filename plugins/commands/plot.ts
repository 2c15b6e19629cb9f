// A line plot for the terminal in braille characters: each cell holds 2×4 dots, so a 60×12 plot
// has 120×48 points of resolution. Consecutive points are joined (Bresenham); a non-finite value
// breaks the line. Used by `lft runs show` for loss curves and `lft runs compare` for several at once.

/** Dot (column 0-1, row 0-3) → bit of the braille cell U+2800 + bits. */
const DOT_BITS = [
  [0x01, 0x02, 0x04, 0x40],
  [0x08, 0x10, 0x20, 0x80],
];

/** A width×height grid of braille cells; set(x, y) lights the dot at (x, y), y counting down from the top. */
export class BrailleCanvas {
  private readonly cells: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0))
      throw new RangeError(`plot: width and height must be positive integers, got ${width}×${height}`);
    this.cells = new Uint8Array(width * height);
  }

  get dotsWide(): number {
    return this.width * 2;
  }
  get dotsHigh(): number {
    return this.height * 4;
  }

  set(x: number, y: number): void {
    if (x < 0 || y < 0 || x >= this.dotsWide || y >= this.dotsHigh) return;
    this.cells[Math.floor(y / 4) * this.width + Math.floor(x / 2)]! |= DOT_BITS[x % 2]![y % 4]!;
  }

  /** Joins two dots; `dotted` lights every other dot of the line (a second curve without colour). */
  line(x0: number, y0: number, x1: number, y1: number, dotted = false): void {
    let n = 0;
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let e = dx + dy;
    for (;;) {
      if (!dotted || n++ % 2 === 0) this.set(x0, y0);
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * e;
      if (e2 >= dy) {
        e += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        e += dx;
        y0 += sy;
      }
    }
  }

  /** The dot bits of cell (column, row). */
  cell(column: number, row: number): number {
    return this.cells[row * this.width + column]!;
  }

  rows(): string[] {
    const out: string[] = [];
    for (let r = 0; r < this.height; r++) {
      let s = "";
      for (let c = 0; c < this.width; c++) s += String.fromCharCode(0x2800 + this.cells[r * this.width + c]!);
      out.push(s);
    }
    return out;
  }
}

export interface PlotOptions {
  /** Cells across (default 60). */
  readonly width?: number;
  /** Cells down (default 12). */
  readonly height?: number;
  /** x of each value (default 0, 1, 2, ...), increasing. */
  readonly xs?: readonly number[];
}

/** Short fixed-width number: 4 significant digits, exponent form when very large or small. */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** The curve alone: braille rows, with the value range mapped to the full height. */
export function plotRows(ys: readonly number[], o: PlotOptions = {}): { rows: string[]; yMin: number; yMax: number; xMin: number; xMax: number } {
  const { canvases, ...range } = drawSeries([{ ys, ...(o.xs === undefined ? {} : { xs: o.xs }) }], o);
  return { rows: canvases[0]!.rows(), ...range };
}

/** One curve of a multi-curve plot. */
export interface Series {
  readonly ys: readonly number[];
  readonly xs?: readonly number[];
}

interface Range {
  readonly yMin: number;
  readonly yMax: number;
  readonly xMin: number;
  readonly xMax: number;
}

/** Each series on a canvas of its own, all over one shared value range; series after the first are dotted when `dotted`. */
function drawSeries(series: readonly Series[], o: PlotOptions & { dotted?: boolean }): Range & { canvases: BrailleCanvas[] } {
  const width = o.width ?? 60;
  const height = o.height ?? 12;
  const points = series.map((s) => {
    const xs = s.xs ?? s.ys.map((_, i) => i);
    if (xs.length !== s.ys.length) throw new RangeError(`plot: ${xs.length} x values for ${s.ys.length} y values`);
    return s.ys.map((y, i) => [xs[i]!, y] as const);
  });
  const canvases = series.map(() => new BrailleCanvas(width, height));
  const finite = points.flat().filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (finite.length === 0) return { canvases, yMin: Number.NaN, yMax: Number.NaN, xMin: Number.NaN, xMax: Number.NaN };
  const yMin = Math.min(...finite.map(([, y]) => y));
  const yMax = Math.max(...finite.map(([, y]) => y));
  const xMin = Math.min(...finite.map(([x]) => x));
  const xMax = Math.max(...finite.map(([x]) => x));
  const W = canvases[0]!.dotsWide - 1;
  const H = canvases[0]!.dotsHigh - 1;
  const col = (x: number) => (xMax === xMin ? 0 : Math.round(((x - xMin) / (xMax - xMin)) * W));
  const row = (y: number) => (yMax === yMin ? Math.floor(H / 2) : Math.round(((yMax - y) / (yMax - yMin)) * H));
  points.forEach((pts, k) => {
    const canvas = canvases[k]!;
    let prev: [number, number] | null = null;
    for (const [x, y] of pts) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        prev = null;
        continue;
      }
      const p: [number, number] = [col(x), row(y)];
      if (prev) canvas.line(prev[0], prev[1], p[0], p[1], o.dotted === true && k > 0);
      else canvas.set(p[0], p[1]);
      prev = p;
    }
  });
  return { canvases, yMin, yMax, xMin, xMax };
}

/** The curve with a y axis (max at the top, min at the bottom) and the x range underneath. */
export function linePlot(ys: readonly number[], o: PlotOptions = {}): string {
  const { rows, ...range } = plotRows(ys, o);
  return framed(rows, range);
}

/** ANSI colours of the curves of an overlaid plot, in order, and of cells that several share. */
const COLOURS = ["\x1b[36m", "\x1b[35m", "\x1b[32m", "\x1b[34m"];
const SHARED = "\x1b[33m";
const RESET = "\x1b[0m";

/**
 * Several curves overlaid on one set of axes (one shared range). With `colour`, each curve has its own
 * colour (cells two curves share are yellow); without, the first curve is solid and the others dotted.
 */
export function overlayPlot(series: readonly Series[], o: PlotOptions & { colour?: boolean } = {}): string {
  const colour = o.colour === true;
  const { canvases, ...range } = drawSeries(series, { ...o, dotted: !colour });
  const { width, height } = canvases[0]!;
  const rows: string[] = [];
  for (let r = 0; r < height; r++) {
    let line = "";
    for (let c = 0; c < width; c++) {
      const bits = canvases.map((cv) => cv.cell(c, r));
      const all = bits.reduce((a, b) => a | b, 0);
      const ch = String.fromCharCode(0x2800 + all);
      const owners = bits.flatMap((b, k) => (b === 0 ? [] : [k]));
      if (!colour || owners.length === 0) line += ch;
      else line += `${owners.length > 1 ? SHARED : COLOURS[owners[0]! % COLOURS.length]}${ch}${RESET}`;
    }
    rows.push(line);
  }
  return framed(rows, range, width);
}

/** The legend line of an overlaid plot: what marks each curve. */
export function overlayLegend(names: readonly string[], colour: boolean): string {
  return names.map((n, k) => (colour ? `${COLOURS[k % COLOURS.length]}━━${RESET} ${n}` : `${k === 0 ? "━━" : "┄┄"} ${n}`)).join("   ");
}

/** Rows with a y axis (max at the top, min at the bottom) and the x range underneath. */
function framed(rows: readonly string[], { yMin, yMax, xMin, xMax }: Range, cells?: number): string {
  if (!Number.isFinite(yMin)) return "(no finite values to plot)";
  const top = formatTick(yMax);
  const bottom = formatTick(yMin);
  const w = Math.max(top.length, bottom.length);
  const lines = rows.map((r, i) => {
    const label = i === 0 ? top : i === rows.length - 1 ? bottom : "";
    const tick = i === 0 || i === rows.length - 1 ? "┤" : "│";
    return `${label.padStart(w)} ${tick}${r}`;
  });
  const width = cells ?? rows[0]!.length;
  lines.push(`${" ".repeat(w)} └${"─".repeat(width)}`);
  const left = formatTick(xMin);
  const right = formatTick(xMax);
  lines.push(`${" ".repeat(w + 2)}${left}${right.padStart(Math.max(right.length + 1, width - left.length))}`);
  return lines.join("\n");
}
