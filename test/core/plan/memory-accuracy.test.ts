// The planner's check (issue 18): every example recipe (made short) and a grid of shapes x methods x
// stages x recompute on the tiny models, planned from config.json alone and run in-process; the CPU
// allocator's measured peak must be within 10% of the plan. RSS is measured in child processes and
// reported against the plan (above a baseline process that loaded lft but no model).
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { planCases } from "../../../bench/lib/plan-cases.ts";
import { childMaxRss, measureExample, measureRss, PlanBench, REPO } from "../../../bench/lib/plan-measure.ts";

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

test("RSS above a process that loaded lft holds at least the planned peak", async () => {
  const baseline = childMaxRss("--baseline", bench.dir);
  const c = planCases().find((x) => x.name === "llama-full-sft")!;
  const m = await measureRss(bench, c, baseline);
  // The allocator's memory is resident; RSS also holds what the plan does not count (the checkpoint
  // as read, the tokenizer, BLAS buffers, host copies written to checkpoints): see the notes.
  expect(m.rssBytes).toBeGreaterThan(0.9 * m.predictedBytes);
}, 60_000);
