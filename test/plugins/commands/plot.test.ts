// The braille line plot on curves whose dots are worked out by hand: each cell is 2×4 dots, bits
// 0x01 0x02 0x04 0x40 down the left column and 0x08 0x10 0x20 0x80 down the right.
import { describe, expect, test } from "bun:test";
import { BrailleCanvas, linePlot, plotRows } from "../../../plugins/commands/plot.ts";

const cell = (bits: number) => String.fromCharCode(0x2800 + bits);

describe("braille plot", () => {
  test("a rising diagonal over 2×1 cells: dots (0,3) (1,2) | (2,1) (3,0)", () => {
    expect(plotRows([0, 1, 2, 3], { width: 2, height: 1 }).rows).toEqual([cell(0x40 | 0x20) + cell(0x02 | 0x08)]);
    expect(cell(0x60) + cell(0x0a)).toBe("⡠⠊");
  });

  test("a constant curve is a line across the middle dot row", () => {
    expect(plotRows([5, 5, 5, 5, 5, 5], { width: 3, height: 1 }).rows).toEqual([cell(0x12).repeat(3)]);
  });

  test("consecutive points are joined; a NaN breaks the line", () => {
    // (0,3) to (3,0) joined by Bresenham: (0,3) (1,2) (2,1) (3,0) — the diagonal again.
    expect(plotRows([0, 3], { width: 2, height: 1 }).rows).toEqual(["⡠⠊"]);
    expect(plotRows([0, Number.NaN, 3], { width: 2, height: 1 }).rows).toEqual([cell(0x40) + cell(0x08)]);
  });

  test("the frame: max and min on the y axis, the x range underneath", () => {
    // (0,0)→(3,7) on a 4×8 dot grid lights (0,0) (0,1) (1,2) (1,3) (2,4) (2,5) (3,6) (3,7).
    const steep = cell(0x01 | 0x02 | 0x20 | 0x80);
    expect(linePlot([2, 1], { width: 2, height: 2, xs: [10, 20] })).toBe([`2 ┤${steep}⠀`, `1 ┤⠀${steep}`, "  └──", "   10 20"].join("\n"));
  });

  test("a falling loss curve starts top-left and ends bottom-right", () => {
    const ys = Array.from({ length: 500 }, (_, i) => 3 * Math.exp(-i / 80) + 0.4);
    const { rows } = plotRows(ys, { width: 40, height: 8 });
    const bits = (r: number, c: number) => rows[r]!.charCodeAt(c) - 0x2800;
    expect(bits(0, 0) & 0x01).toBe(0x01);
    expect(bits(7, 39) & 0x80).toBe(0x80);
    expect(bits(7, 0)).toBe(0);
    expect(bits(0, 39)).toBe(0);
    expect(linePlot([Number.NaN])).toBe("(no finite values to plot)");
  });

  test("the canvas refuses an empty size", () => {
    expect(() => new BrailleCanvas(0, 3)).toThrow(/positive integers/);
  });
});
