import { PlanBench } from "./lib/plan-measure.ts";
import { planCases } from "./lib/plan-cases.ts";
const b = new PlanBench();
const only = process.argv[2];
for (const c of planCases()) {
  if (only && !c.name.includes(only)) continue;
  try {
    const m = await b.measure(c);
    console.log(c.name.padEnd(40), m.predictedBytes, m.measuredBytes, (m.error * 100).toFixed(1) + "%", Math.abs(m.error) > 0.1 ? "  <<<<" : "");
    if (process.env.PARTS) for (const p of m.parts) console.log("   ", p.name, p.bytes, p.detail);
  } catch (e) { console.log(c.name, "ERROR", String(e).slice(0, 300)); }
}
b.cleanup();
