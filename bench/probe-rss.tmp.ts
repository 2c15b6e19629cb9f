import { PlanBench, childMaxRss, measureRss } from "./lib/plan-measure.ts";
import { planCases } from "./lib/plan-cases.ts";
const b = new PlanBench();
const base = childMaxRss("--baseline", b.dir);
console.log("baseline", base);
for (const c of planCases().filter((c) => c.model !== "stories" || c.name === "stories-full-sft-b1t96")) {
  const t = performance.now();
  b.modelDir(c.model);
  const m = await measureRss(b, c, base);
  console.log(c.name.padEnd(30), m.predictedBytes, m.rssBytes, (m.error * 100).toFixed(1) + "%", ((performance.now() - t) / 1000).toFixed(1) + "s");
}
b.cleanup();
