// What `lft runs` and `lft runs show ID` print: a table of runs newest first, and one run's record
// with its loss curve as a braille plot; ambiguous and unknown ids are refused with the candidates.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunStore } from "../../../core/index.ts";
import { formatRunCompare, formatRunList, formatRunShow, overlayPlot, runsJson } from "../../../plugins/commands/index.ts";

let dir: string;
let db: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lft-run-report-"));
  db = join(dir, "runs.db");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("`lft runs` lists newest first; `lft runs show` prints the record and the loss curve", () => {
  const s = RunStore.open(db)._unsafeUnwrap();
  s.startRun({ id: "20250101-aaa", name: "first", totalSteps: 50, startedAt: Date.UTC(2025, 0, 1) })._unsafeUnwrap();
  s.startRun({ id: "20250102-bbb", name: "second", config: { lr: 0.001 }, totalSteps: 50, startedAt: Date.UTC(2025, 0, 2) })._unsafeUnwrap();
  for (let i = 1; i <= 50; i++) s.recordMetrics("20250102-bbb", i, { loss: 4 / Math.sqrt(i) })._unsafeUnwrap();
  s.endRun("20250102-bbb", "completed", { step: 50, at: Date.UTC(2025, 0, 2) + 65_000 })._unsafeUnwrap();
  const list = formatRunList(s).split("\n");
  expect(list[0]).toMatch(/^ID\s+NAME\s+STATUS\s+STEP\s+LOSS\s+STARTED\s+TIME$/);
  expect(list[1]).toMatch(/^20250102-bbb\s+second\s+completed\s+50\/50\s+0\.5657\s+2025-01-02 00:00:00\s+1m05s$/);
  expect(list[2]).toMatch(/^20250101-aaa\s+first\s+running\s+0\/50\s+-/);

  const show = formatRunShow(s, "20250102", { width: 30, height: 6 })._unsafeUnwrap();
  expect(show).toContain("run       20250102-bbb (second)");
  expect(show).toContain("status    completed");
  expect(show).toContain("  lr = 0.001");
  expect(show).toContain("loss (50 steps, last 0.5657, min 0.5657)");
  const plot = show.slice(show.indexOf("loss (")).split("\n").slice(1);
  expect(plot[0]).toMatch(/^\s*4 ┤[⠀-⣿]{30}$/);
  expect(plot[5]).toMatch(/^0\.5657 ┤[⠀-⣿]{30}$/);
  expect(plot[7]).toMatch(/^\s+1\s+50$/);
  expect(formatRunShow(s, "2025")._unsafeUnwrapErr().message).toMatch(/"2025" is ambiguous: 20250102-bbb, 20250101-aaa/);
  expect(formatRunShow(s, "zzz")._unsafeUnwrapErr().message).toMatch(/no run "zzz" in .*; recent runs: 20250102-bbb, 20250101-aaa/);
  s.close();
});

test("`lft runs show` of an eval-only run (no steps) lists its metrics", () => {
  const s = RunStore.open(db)._unsafeUnwrap();
  s.startRun({ id: "eval-1", name: "lft eval · eval mmlu_val", totalSteps: 0 })._unsafeUnwrap();
  s.recordMetrics("eval-1", 0, { "mmlu_val/Average": 100 * (16 / 62), "mmlu_val/STEM": 23.25581395 }, false)._unsafeUnwrap();
  s.endRun("eval-1", "completed", { step: 0 })._unsafeUnwrap();
  const show = formatRunShow(s, "eval-1")._unsafeUnwrap();
  expect(show).toContain("metrics\n  mmlu_val/Average = 25.8065\n  mmlu_val/STEM = 23.2558");
  expect(show).not.toContain("no loss recorded yet");
  // A training run without a loss yet still says so.
  s.startRun({ id: "train-1", totalSteps: 10 })._unsafeUnwrap();
  expect(formatRunShow(s, "train-1")._unsafeUnwrap()).toContain("no loss recorded yet");
  s.close();
});

test("`lft runs compare` overlays the curves on one shared range; colour marks each run, shared cells yellow", () => {
  const s = RunStore.open(db)._unsafeUnwrap();
  s.startRun({ id: "fast", totalSteps: 10 })._unsafeUnwrap();
  s.startRun({ id: "slow", totalSteps: 10 })._unsafeUnwrap();
  for (let i = 1; i <= 10; i++) {
    s.recordMetrics("fast", i, { loss: 4 / i })._unsafeUnwrap();
    s.recordMetrics("slow", i, { loss: 4 - i * 0.1 })._unsafeUnwrap();
  }
  const plain = formatRunCompare(s, ["fast", "slow"], { width: 20, height: 5 })._unsafeUnwrap().split("\n");
  expect(plain[0]).toMatch(/^fast\s+running\s+loss last 0\.4000, min 0\.4000 over 10 steps$/);
  expect(plain[1]).toMatch(/^slow\s+running\s+loss last 3\.0000, min 3\.0000 over 10 steps$/);
  // One y axis for both: 4 at the top, fast's last 0.4 at the bottom.
  expect(plain[3]).toMatch(/^ {2}4 ┤/);
  expect(plain[7]).toMatch(/^0\.4 ┤/);
  expect(plain.at(-1)).toBe("━━ fast   ┄┄ slow");
  const coloured = formatRunCompare(s, ["fast", "slow"], { width: 20, height: 5, colour: true })._unsafeUnwrap();
  expect(coloured).toContain("\x1b[36m");
  expect(coloured).toContain("\x1b[35m");
  expect(formatRunCompare(s, ["fast", "nope"])._unsafeUnwrapErr().message).toMatch(/no run "nope"/);
  s.close();
});

test("overlayPlot: both curves' dots are on the canvas; the second is dotted without colour", () => {
  const flat = overlayPlot([{ ys: [0, 0] }, { ys: [1, 1] }], { width: 10, height: 2 }).split("\n");
  // Row 0 holds the dotted top line (every other dot: the left one of each cell), the last row the solid bottom line.
  expect(flat[0]).toBe("1 ┤⠁⠁⠁⠁⠁⠁⠁⠁⠁⠁");
  expect(flat[1]).toBe("0 ┤⣀⣀⣀⣀⣀⣀⣀⣀⣀⣀");
});

test("runsJson: each run with the last value of every metric and its artifacts", () => {
  const s = RunStore.open(db)._unsafeUnwrap();
  s.startRun({ id: "r1", name: "one", totalSteps: 2 })._unsafeUnwrap();
  s.recordMetrics("r1", 1, { loss: 2, lr: 0.1 })._unsafeUnwrap();
  s.recordMetrics("r1", 2, { loss: 1, lr: 0.05 })._unsafeUnwrap();
  s.addArtifact("r1", { kind: "model", path: "/out", step: 2 })._unsafeUnwrap();
  const [r] = runsJson(s) as { id: string; name: string; step: number; metrics: Record<string, number>; artifacts: { path: string }[] }[];
  expect([r!.id, r!.name, r!.step]).toEqual(["r1", "one", 2]);
  expect(r!.metrics).toEqual({ loss: 1, lr: 0.05 });
  expect(r!.artifacts.map((a) => a.path)).toEqual(["/out"]);
  s.close();
});
