// Attack suite, fuzzer class 1: mutated safetensors files through the real reader. Every input is
// refused with a message naming the file (and tensor), or loads exactly as its header says; none
// throws or hangs. Seeded: LFT_FUZZ_SEED replays a run, LFT_FUZZ_COUNT sets how many inputs it tries.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeFailures, fuzz } from "./fuzz/harness.ts";
import { MODEL_DIR } from "./fuzz/process-cases.ts";
import { fuzzCount, fuzzSeed } from "./fuzz/random.ts";
import { builtinRegistry } from "./fuzz/recipe-inputs.ts";
import { modelLoadClass, safetensorsClass } from "./fuzz/safetensors-inputs.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-fuzz-st-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("mutated safetensors files are refused with the file named, or load as their header says", async () => {
  const seed = fuzzSeed();
  const t = await fuzz(safetensorsClass(dir), seed, fuzzCount(800));
  console.log(`safetensors-header: seed ${seed}, ${t.inputs} inputs, ${t.refused} refused, ${t.accepted} accepted, slowest ${Math.round(t.slowestMs)} ms`);
  if (t.failures.length > 0) throw new Error(describeFailures(t));
  // Both outcomes occur: the mutations reach the error paths, and some (a flipped data bit) stay valid.
  expect(t.refused).toBeGreaterThan(t.inputs / 2);
  expect(t.accepted).toBeGreaterThan(0);
}, 60_000);

test("a real model's damaged weights are refused by the model loader with the file named, or load whole", async () => {
  const seed = fuzzSeed();
  const t = await fuzz(modelLoadClass(join(dir, "model"), MODEL_DIR, builtinRegistry()), seed, fuzzCount(80));
  console.log(`model-weights: seed ${seed}, ${t.inputs} inputs, ${t.refused} refused, ${t.accepted} accepted, slowest ${Math.round(t.slowestMs)} ms`);
  if (t.failures.length > 0) throw new Error(describeFailures(t));
  expect(t.refused).toBeGreaterThan(t.inputs / 2);
}, 60_000);
