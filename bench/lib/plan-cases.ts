// The planner's accuracy grid: shapes x methods x stages x recompute on the tiny models (shared by
// test/core/plan/memory-accuracy.test.ts and bench/plan.ts).
import type { PlanCase } from "./plan-measure.ts";

const methods: Record<string, { method: string; train?: string }> = {
  full: { method: "method full" },
  freeze: { method: "method freeze { layers = 2 }" },
  lora: { method: "method lora { rank = 8 }" },
  dora: { method: "method lora { rank = 4, dora = true }" },
  qlora: { method: "method qlora { rank = 8 }" },
  galore: { method: "method full", train: "optimizer = galore, rank = 4" },
  badam: { method: "method full", train: "optimizer = badam" },
  "llama-pro": { method: "method llama_pro { expand = 1 }" },
};

const shapes = [
  { batch: 2, cutoff: 32 },
  { batch: 1, cutoff: 96 },
] as const;

/** Every method x both shapes x recompute off/on for sft on stories260K; stage and family cases on top. */
export function planCases(): PlanCase[] {
  const cases: PlanCase[] = [];
  for (const [name, m] of Object.entries(methods))
    for (const s of shapes)
      for (const recompute of [false, true])
        cases.push({ name: `stories-${name}-sft-b${s.batch}t${s.cutoff}${recompute ? "-rc" : ""}`, model: "stories", stage: "sft", recompute, ...s, ...m });
  for (const stage of ["dpo", "rm"] as const)
    for (const name of ["lora", "full"])
      for (const recompute of [false, true])
        cases.push({
          name: `stories-${name}-${stage}${recompute ? "-rc" : ""}`,
          model: "stories",
          stage,
          recompute,
          batch: 2,
          cutoff: 48,
          ...methods[name]!,
          // method full has no adapters to switch off for a reference: ORPO needs none.
          ...(stage === "dpo" && name === "full" ? { train: "loss = orpo" } : {}),
        });
  for (const model of ["llama", "qwen3"])
    for (const name of ["lora", "full", "qlora"])
      cases.push({ name: `${model}-${name}-sft`, model, stage: "sft", recompute: false, batch: 2, cutoff: 64, ...methods[name]! });
  return cases;
}
