// A dependency-free PNG writer (RGB, 8 bit, zlib via node:zlib) and LLaMA-Factory's loss plot drawn
// into it: the raw curve faded, the smoothed one solid, on a 640×480 canvas like matplotlib's default.
import { deflateSync } from "node:zlib";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (the PNG / zlib polynomial). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes `rgb` (width × height × 3 bytes, row-major) as a PNG file. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour, deflate, adaptive filter, no interlace
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** LLaMA-Factory's `smooth`: an exponential moving average whose weight grows with the curve's length. */
export function smooth(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  const weight = 1.8 * (1 / (1 + Math.exp(-0.05 * values.length)) - 0.5);
  let last = values[0] as number;
  return values.map((v) => {
    last = last * weight + (1 - weight) * v;
    return last;
  });
}

type Rgb = readonly [number, number, number];

class Canvas {
  readonly rgb: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Uint8Array(width * height * 3).fill(255);
  }
  /** Blends `color` over the pixel with opacity `alpha`. */
  dot(x: number, y: number, color: Rgb, alpha = 1): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const i = (yi * this.width + xi) * 3;
    for (let c = 0; c < 3; c++) this.rgb[i + c] = Math.round((this.rgb[i + c] as number) * (1 - alpha) + (color[c] as number) * alpha);
  }
  /** A line of width ~2 px, stepping one pixel along the longer axis. */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, alpha = 1): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      this.dot(x, y, color, alpha);
      this.dot(x, y + 1, color, alpha);
    }
  }
}

const BLUE: Rgb = [0x1f, 0x77, 0xb4];
const AXIS: Rgb = [0, 0, 0];
const GRID: Rgb = [0xdd, 0xdd, 0xdd];

/** The loss plot of `plot_loss`: steps on x, values on y, raw (faded) and smoothed curves, axes and a light grid. */
export function lossPlotPng(steps: readonly number[], values: readonly number[], width = 640, height = 480): Uint8Array {
  const c = new Canvas(width, height);
  const left = 80;
  const right = width - 64;
  const top = 58;
  const bottom = height - 53;
  const points = steps.map((s, i) => [s, values[i] as number] as const).filter(([, v]) => Number.isFinite(v));
  const xs = points.map(([s]) => s);
  const ys = points.map(([, v]) => v);
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, xMin + 1);
  const yLo = Math.min(...ys, 0);
  const yHi = Math.max(...ys, yLo + 1e-9);
  const pad = (yHi - yLo) * 0.05 || 1;
  const [yMin, yMax] = [yLo - pad, yHi + pad];
  const px = (s: number) => left + ((s - xMin) / (xMax - xMin)) * (right - left);
  const py = (v: number) => bottom - ((v - yMin) / (yMax - yMin)) * (bottom - top);
  for (let k = 1; k < 5; k++) {
    c.line(left, top + ((bottom - top) * k) / 5, right, top + ((bottom - top) * k) / 5, GRID);
    c.line(left + ((right - left) * k) / 5, top, left + ((right - left) * k) / 5, bottom, GRID);
  }
  c.line(left, top, left, bottom, AXIS);
  c.line(left, bottom, right, bottom, AXIS);
  c.line(right, top, right, bottom, AXIS);
  c.line(left, top, right, top, AXIS);
  const draw = (vs: readonly number[], alpha: number) => {
    for (let i = 1; i < vs.length; i++) c.line(px(xs[i - 1] as number), py(vs[i - 1] as number), px(xs[i] as number), py(vs[i] as number), BLUE, alpha);
    if (vs.length === 1) c.dot(px(xs[0] as number), py(vs[0] as number), BLUE, alpha);
  };
  draw(ys, 0.4);
  draw(smooth(ys), 1);
  return encodePng(width, height, c.rgb);
}
