// Attack suite, fuzzer class 2: dataset files in LLaMA-Factory's formats with mutated rows, through
// the real reader, format converters, chat templates and the qwen3 tokenizer. No input throws or hangs;
// every row becomes a sample or a skip counted with its file and row; a refusal names the file.
// Seeded: LFT_FUZZ_SEED replays a run, LFT_FUZZ_COUNT sets how many inputs it tries.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tokenizerDir } from "../core/data/helpers/tokenizer.ts";
import { datasetClass } from "./fuzz/dataset-inputs.ts";
import { describeFailures, fuzz } from "./fuzz/harness.ts";
import { fuzzCount, fuzzSeed } from "./fuzz/random.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-fuzz-data-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("mutated dataset rows are samples or counted skips with file and row, never a crash", async () => {
  const seed = fuzzSeed();
  const t = await fuzz(await datasetClass(dir, tokenizerDir("qwen3")), seed, fuzzCount(600));
  console.log(`dataset-rows: seed ${seed}, ${t.inputs} inputs, ${t.refused} refused, ${t.accepted} accepted, slowest ${Math.round(t.slowestMs)} ms`);
  if (t.failures.length > 0) throw new Error(describeFailures(t));
  expect(t.refused).toBeGreaterThan(0);
  expect(t.accepted).toBeGreaterThan(t.inputs / 2);
}, 60_000);
