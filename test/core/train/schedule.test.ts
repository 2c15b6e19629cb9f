// Learning-rate schedules against their formulas written out independently (HF transformers'
// get_*_schedule_with_warmup and cosine_with_min_lr), including warmup given as a ratio and min_lr.
import { describe, expect, test } from "bun:test";
import { makeSchedule, type ScheduleSpec } from "../../../core/index.ts";

const LR = 3e-4;
const TOTAL = 100;

/** Independent transcription: step s in [0, total), warmup w, floor m. */
function reference(kind: string, s: number, w: number, m = 0): number {
  if (s < w) return (LR * s) / w;
  if (kind === "constant") return LR;
  const p = (s - w) / (TOTAL - w);
  const f = kind === "linear" ? 1 - p : 0.5 * (1 + Math.cos(Math.PI * p));
  return m + (LR - m) * f;
}

function curve(spec: ScheduleSpec): number[] {
  const s = makeSchedule(spec, LR, TOTAL)._unsafeUnwrap();
  return Array.from({ length: TOTAL }, (_, i) => s.lrAt(i));
}

function expectCurve(got: number[], want: (s: number) => number): void {
  // Same formula in a different arrangement: agreement to a few ulps of 3e-4.
  for (const [s, v] of got.entries()) expect(Math.abs(v - want(s))).toBeLessThan(1e-15);
}

describe("schedules", () => {
  test("constant, with and without warmup", () => {
    expect(curve({ kind: "constant" })).toEqual(new Array(TOTAL).fill(LR));
    expectCurve(curve({ kind: "constant", warmupSteps: 10 }), (s) => reference("constant", s, 10));
  });

  test("linear decays to 0 (or to minLr) after warmup", () => {
    expectCurve(curve({ kind: "linear", warmupSteps: 10 }), (s) => reference("linear", s, 10));
    expectCurve(curve({ kind: "linear", warmupSteps: 10, minLr: 3e-5 }), (s) => reference("linear", s, 10, 3e-5));
  });

  test("cosine: half a cosine from lr to minLr", () => {
    expectCurve(curve({ kind: "cosine" }), (s) => reference("cosine", s, 0));
    expectCurve(curve({ kind: "cosine", warmupSteps: 5, minLr: 1e-5 }), (s) => reference("cosine", s, 5, 1e-5));
  });

  test("landmarks: first step under warmup is 0, peak at the end of warmup, midpoint of cosine, floor", () => {
    const s = makeSchedule({ kind: "cosine", warmupSteps: 10, minLr: 1e-5 }, LR, TOTAL)._unsafeUnwrap();
    expect(s.lrAt(0)).toBe(0);
    expect(s.lrAt(5)).toBeCloseTo(LR / 2, 15);
    expect(s.lrAt(10)).toBe(LR);
    expect(s.lrAt(55)).toBeCloseTo((LR + 1e-5) / 2, 15);
    expect(s.lrAt(TOTAL)).toBeCloseTo(1e-5, 15);
    // Past the planned end the floor holds (cosine would rise again).
    expect(s.lrAt(TOTAL + 30)).toBeCloseTo(1e-5, 15);
  });

  test("warmup ratio is rounded up to whole steps, as HF does", () => {
    const s = makeSchedule({ kind: "linear", warmupRatio: 0.034 }, LR, TOTAL)._unsafeUnwrap();
    expect(s.warmupSteps).toBe(4);
    expectCurve(curve({ kind: "linear", warmupRatio: 0.034 }), (i) => reference("linear", i, 4));
  });

  test("bad specs are refused with what to change", () => {
    const bad = (spec: ScheduleSpec, lr = LR, total = TOTAL) => makeSchedule(spec, lr, total)._unsafeUnwrapErr().message;
    expect(bad({ kind: "linear", warmupSteps: 3, warmupRatio: 0.1 })).toMatch(/warmupSteps or warmupRatio, not both/);
    expect(bad({ kind: "constant", minLr: 1e-5 })).toMatch(/minLr has no effect on a constant schedule/);
    expect(bad({ kind: "cosine", minLr: 1 })).toMatch(/minLr must be in \[0, lr/);
    expect(bad({ kind: "cosine", warmupRatio: 1.5 })).toMatch(/warmupRatio must be in \[0, 1\]/);
    expect(bad({ kind: "step" as never })).toMatch(/unknown kind "step"; known: constant, linear, cosine/);
    expect(bad({ kind: "linear" }, LR, 0)).toMatch(/total steps must be a positive integer/);
  });
});
