// The memory planner, predicted vs measured: every case of test/core/plan/memory-accuracy.test.ts (the
// grid of shapes x methods x stages x recompute, and every example recipe made short), the CPU
// allocator's peak against the plan, and peak RSS of a child process per model-sized case above a
// baseline process that loaded lft but no model. Writes bench/results/plan.json.
// Run: node_modules/.bin/bun bench/plan.ts
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { planCases } from "./lib/plan-cases.ts";
import { childMaxRss, measureExample, measureRss, PlanBench, REPO, runtimeOverhead } from "./lib/plan-measure.ts";
import { table, writeResults } from "./lib/results.ts";

const bench = new PlanBench();
const mib = (b: number): string => (b / 2 ** 20).toFixed(2);
const pct = (e: number): string => `${(e * 100).toFixed(1)}%`;
try {
  const peaks = [];
  for (const c of planCases()) peaks.push(await bench.measure(c));
  for (const f of readdirSync(join(REPO, "examples")).filter((x) => x.endsWith(".lft"))) peaks.push(await measureExample(bench, join(REPO, "examples", f)));
  const baseline = childMaxRss("--baseline", bench.dir);
  const calibration = planCases().find((x) => x.name === "stories-full-sft-b1t96")!;
  const overhead = await runtimeOverhead(bench, calibration, baseline);
  const rss = [];
  for (const c of planCases().filter((x) => x.model !== "stories")) rss.push(await measureRss(bench, c, baseline, overhead));
  console.log(table(peaks.map((m) => ({ case: m.case, "planned MiB": mib(m.predictedBytes), "measured MiB": mib(m.measuredBytes), error: pct(m.error) }))));
  console.log(
    `\nRSS above a baseline process that loaded lft but no model (${mib(baseline)} MiB); runtime overhead ${mib(overhead)} MiB (from ${calibration.name}):`,
  );
  console.log(
    table(
      rss.map((m) => ({ case: m.case, "planned MiB": mib(m.predictedBytes), "host MiB": mib(m.hostBytes), "RSS MiB": mib(m.rssBytes), error: pct(m.error) })),
    ),
  );
  const worst = Math.max(...peaks.map((m) => Math.abs(m.error)));
  const path = writeResults("plan", {
    command: "node_modules/.bin/bun bench/plan.ts",
    note: "measuredBytes: the CPU allocator's peak over the run minus what was live before it (in-process, 2 steps, or 1 epoch for the shipped examples); rssBytes: a child process's VmHWM minus baselineRssBytes (a process that loaded lft, its plugins and the CLI, but no model)",
    worstPeakError: worst,
    peaks: peaks.map(({ parts, ...m }) => ({ ...m, parts: parts.map((p) => ({ name: p.name, bytes: p.bytes })) })),
    runtimeOverheadBytes: overhead,
    rssNote:
      "rss error = rssBytes / (predictedBytes + hostBytes) - 1; hostBytes = checkpoint safetensors + tokenizer.json + trainable and optimizer bytes written at the final checkpoint + the runtime overhead measured once on the calibration case",
    rss,
  });
  console.log(`\nworst allocator-peak error ${pct(worst)}; wrote ${path}`);
} finally {
  bench.cleanup();
}
