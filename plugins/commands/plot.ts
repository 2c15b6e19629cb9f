// A line plot for the terminal in braille characters: each cell holds 2×4 dots, so a 60×12 plot
// has 120×48 points of resolution. Consecutive points are joined (Bresenham); a non-finite value
// breaks the line. Used by `lft runs show` for loss curves.

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

  line(x0: number, y0: number, x1: number, y1: number): void {
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let e = dx + dy;
    for (;;) {
      this.set(x0, y0);
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
  const width = o.width ?? 60;
  const height = o.height ?? 12;
  const xs = o.xs ?? ys.map((_, i) => i);
  if (xs.length !== ys.length) throw new RangeError(`plot: ${xs.length} x values for ${ys.length} y values`);
  const canvas = new BrailleCanvas(width, height);
  const finite = ys.map((y, i) => [xs[i]!, y] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (finite.length === 0) return { rows: canvas.rows(), yMin: Number.NaN, yMax: Number.NaN, xMin: Number.NaN, xMax: Number.NaN };
  const yMin = Math.min(...finite.map(([, y]) => y));
  const yMax = Math.max(...finite.map(([, y]) => y));
  const xMin = Math.min(...finite.map(([x]) => x));
  const xMax = Math.max(...finite.map(([x]) => x));
  const W = canvas.dotsWide - 1;
  const H = canvas.dotsHigh - 1;
  const col = (x: number) => (xMax === xMin ? 0 : Math.round(((x - xMin) / (xMax - xMin)) * W));
  const row = (y: number) => (yMax === yMin ? Math.floor(H / 2) : Math.round(((yMax - y) / (yMax - yMin)) * H));
  let prev: [number, number] | null = null;
  for (let i = 0; i < ys.length; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      prev = null;
      continue;
    }
    const p: [number, number] = [col(x), row(y)];
    if (prev) canvas.line(prev[0], prev[1], p[0], p[1]);
    else canvas.set(p[0], p[1]);
    prev = p;
  }
  return { rows: canvas.rows(), yMin, yMax, xMin, xMax };
}

/** The curve with a y axis (max at the top, min at the bottom) and the x range underneath. */
export function linePlot(ys: readonly number[], o: PlotOptions = {}): string {
  const { rows, yMin, yMax, xMin, xMax } = plotRows(ys, o);
  if (!Number.isFinite(yMin)) return "(no finite values to plot)";
  const top = formatTick(yMax);
  const bottom = formatTick(yMin);
  const w = Math.max(top.length, bottom.length);
  const lines = rows.map((r, i) => {
    const label = i === 0 ? top : i === rows.length - 1 ? bottom : "";
    const tick = i === 0 || i === rows.length - 1 ? "┤" : "│";
    return `${label.padStart(w)} ${tick}${r}`;
  });
  const width = rows[0]!.length;
  lines.push(`${" ".repeat(w)} └${"─".repeat(width)}`);
  const left = formatTick(xMin);
  const right = formatTick(xMax);
  lines.push(`${" ".repeat(w + 2)}${left}${right.padStart(Math.max(right.length + 1, width - left.length))}`);
  return lines.join("\n");
}
