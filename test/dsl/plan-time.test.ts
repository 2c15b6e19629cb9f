// The CPU time model against a real run of the shipped 260K-parameter Llama: full pre-training of 3
// packed batches (8 × 512 tokens). Asserted loosely (within 3× either way): the probe and the run are
// measured at different moments on a 2-core machine other processes share; bench/plan-time.ts reports
// the exact ratios (bench/results/plan-time.json).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measuredStepSeconds, predictedStepSeconds } from "../../bench/lib/plan-time.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-plan-time-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("predicted CPU step time is within 3× of 3 real steps", async () => {
  const c = { name: "full-pt", method: "method full", train: "batch = 8, cutoff = 512" };
  const predicted = await predictedStepSeconds(dir, c);
  const measured = measuredStepSeconds(dir, c);
  expect(measured).toBeGreaterThan(0);
  const ratio = predicted / measured;
  expect(ratio).toBeGreaterThan(1 / 3);
  expect(ratio).toBeLessThan(3);
}, 60_000);
