// Attack suite, the fuzzer end to end: a few inputs of each class through a real `./lft` process in a
// fingerprinted sandbox — no signal, no stack trace, a status from the table, a located message, and
// nothing changed outside the process's home folder. Kept few: each case starts a Bun process.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeFailures, fuzz } from "./fuzz/harness.ts";
import { datasetProcessClass, recipeProcessClass, safetensorsProcessClass } from "./fuzz/process-cases.ts";
import { fuzzSeed } from "./fuzz/random.ts";

const root = mkdtempSync(join(tmpdir(), "lft-fuzz-proc-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

for (const [label, make] of [
  ["recipes through lft check", recipeProcessClass],
  ["dataset files through lft data preview", datasetProcessClass],
  ["damaged weights through lft chat", safetensorsProcessClass],
] as const) {
  test(`${label}: 2 inputs, no crash, located refusals, sandbox untouched`, async () => {
    const seed = fuzzSeed();
    const t = await fuzz(make(root), seed, 2);
    console.log(`${t.cls}: seed ${seed}, ${t.inputs} inputs, ${t.refused} refused, ${t.accepted} accepted, slowest ${Math.round(t.slowestMs)} ms`);
    if (t.failures.length > 0) throw new Error(describeFailures(t));
    expect(t.inputs).toBe(2);
  }, 120_000);
}
