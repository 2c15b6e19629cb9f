// The planner's check (issue 18): every example recipe (made short) and a grid of shapes x methods x
// stages x recompute on the tiny models, planned from config.json alone and run in-process; the CPU
// allocator's measured peak must be within 10% of the plan. RSS is measured in child processes and
// reported against the plan (above a baseline process that loaded lft but no model).
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { planCases } from "../../../bench/lib/plan-cases.ts";
import { childMaxRss, measureExample, measureRss, PlanBench, REPO, runtimeOverhead } from "../../../bench/lib/plan-measure.ts";

const bench = new PlanBench();
afterAll(() => bench.cleanup());

const within = (measured: number, predicted: number): number => Math.abs(measured / predicted - 1);

describe("allocator peak within 10% of the plan", () => {
  const cases = planCases();
  // Chunks of cases per test keep each well under 30 s on a loaded 2-core machine.
  const chunks: (typeof cases)[] = [];
  for (let i = 0; i < cases.length; i += 8) chunks.push(cases.slice(i, i + 8));
  for (const chunk of chunks) {
    test(`${chunk[0]!.name} .. ${chunk.at(-1)!.name}`, async () => {
      for (const c of chunk) {
        const m = await bench.measure(c);
        expect({ case: c.name, error: Number(m.error.toFixed(3)) }).toEqual({ case: c.name, error: expect.any(Number) });
        if (within(m.measuredBytes, m.predictedBytes) > 0.1)
          throw new Error(`${c.name}: measured ${m.measuredBytes}, planned ${m.predictedBytes} (${(m.error * 100).toFixed(1)}%)`);
      }
    }, 60_000);
  }
});

describe("every example recipe, made short", () => {
  const examples = readdirSync(join(REPO, "examples")).filter((f) => f.endsWith(".lft"));
  test("the examples are all here", () => {
    expect(examples.sort()).toEqual(["dpo.lft", "grpo.lft", "identity-lora.lft", "lora-sft.lft", "pretrain-full.lft"]);
  });
  for (const f of examples) {
    test(f, async () => {
      const m = await measureExample(bench, join(REPO, "examples", f));
      if (within(m.measuredBytes, m.predictedBytes) > 0.1)
        throw new Error(`${f}: measured ${m.measuredBytes}, planned ${m.predictedBytes} (${(m.error * 100).toFixed(1)}%)`);
    }, 60_000);
  }
});

test("RSS above a process that loaded lft is within 20% of the plan plus the host bytes", async () => {
  const baseline = childMaxRss("--baseline", bench.dir);
  const cases = planCases();
  const overhead = await runtimeOverhead(bench, cases.find((x) => x.name === "stories-full-sft-b1t96")!, baseline);
  const m = await measureRss(bench, cases.find((x) => x.name === "llama-full-sft")!, baseline, overhead);
  if (Math.abs(m.error) > 0.2)
    throw new Error(`llama-full-sft: RSS ${m.rssBytes} above the baseline, planned ${m.predictedBytes} + host ${m.hostBytes} (${(m.error * 100).toFixed(1)}%)`);
}, 60_000);
