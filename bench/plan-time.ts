// The time model against real runs on this machine: predicted vs measured CPU step time for a few
// shapes and methods of the shipped 260K-parameter Llama (bench/lib/plan-time.ts says how each is
// measured). Run: node_modules/.bin/bun bench/plan-time.ts → bench/results/plan-time.json
import "../lft.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measuredStepSeconds, predictedStepSeconds, type TimeCase } from "./lib/plan-time.ts";
import { table, writeResults } from "./lib/results.ts";

const cases: TimeCase[] = [
  { name: "full-pt-b8-s512", method: "method full", train: "batch = 8, cutoff = 512" },
  { name: "full-pt-b8-s512-checkpointing", method: "method full", train: "batch = 8, cutoff = 512, checkpointing = true" },
  { name: "lora-pt-b8-s512", method: "method lora { rank = 8, targets = [all] }", train: "batch = 8, cutoff = 512" },
  { name: "full-pt-b4-s256-acc2", method: "method full", train: "batch = 4, cutoff = 256, accumulate = 2" },
];

const dir = mkdtempSync(join(tmpdir(), "lft-plan-time-"));
const rows: Record<string, string | number>[] = [];
try {
  for (const c of cases) {
    const predicted = await predictedStepSeconds(dir, c);
    const measured = measuredStepSeconds(dir, c, 6);
    rows.push({
      case: c.name,
      predictedSeconds: Number(predicted.toFixed(3)),
      measuredSeconds: Number(measured.toFixed(3)),
      ratio: Number((predicted / measured).toFixed(2)),
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(table(rows));
const path = writeResults("plan-time", {
  method:
    "predicted: lft plan's CPU time model (GEMM and attention rates probed at the model's shapes); measured: (run of 7 steps − run of 1 step) / 6, from the runs' own summaries",
  cases: rows,
});
console.log(`wrote ${path}`);
