import { measureExample, PlanBench, REPO } from "./lib/plan-measure.ts";
import { readdirSync } from "node:fs";
const b = new PlanBench();
for (const f of readdirSync(`${REPO}/examples`).filter((f) => f.endsWith(".lft"))) {
  const t = performance.now();
  try {
    const m = await measureExample(b, `${REPO}/examples/${f}`);
    console.log(f.padEnd(24), m.predictedBytes, m.measuredBytes, (m.error * 100).toFixed(1) + "%", m.changes.join("; "), ((performance.now() - t) / 1000).toFixed(1) + "s");
    for (const p of m.parts) console.log("   ", p.name, p.bytes, p.detail);
  } catch (e) { console.log(f, "ERROR", String(e).slice(0, 600)); }
}
b.cleanup();
