// The attack suite's counts: runs the fuzzer's classes (safetensors headers, a model's weights, dataset
// rows, recipes in process; a few of each through ./lft) and counts the other attack tests by file, then writes
// bench/results/attack.json: inputs tried by class, with crashes, hangs, unlocated refusals, silent
// wrong results and data lost (all must be 0), the seed, machine, date and duration.
// Run: node_modules/.bin/bun bench/attack.ts   (LFT_FUZZ_SEED=N replays a seed; LFT_FUZZ_COUNT=N sets
// the inputs per in-process class; --no-process skips the ./lft cases)
import "../lft.ts";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { datasetClass } from "../test/attack/fuzz/dataset-inputs.ts";
import { describeFailures, type FuzzClass, fuzz, type Tally } from "../test/attack/fuzz/harness.ts";
import { datasetProcessClass, MODEL_DIR, recipeProcessClass, safetensorsProcessClass } from "../test/attack/fuzz/process-cases.ts";
import { fuzzCount, fuzzSeed } from "../test/attack/fuzz/random.ts";
import { builtinRegistry, recipeClass } from "../test/attack/fuzz/recipe-inputs.ts";
import { modelLoadClass, safetensorsClass } from "../test/attack/fuzz/safetensors-inputs.ts";
import { tokenizerDir } from "../test/core/data/helpers/tokenizer.ts";
import { table, writeResults } from "./lib/results.ts";

const ATTACK_DIR = join(import.meta.dir, "../test/attack");

/** The other attack tests: how many cases each file holds (test( and test.each rows are not told apart). */
function attackTestCounts(): { file: string; tests: number }[] {
  return readdirSync(ATTACK_DIR)
    .filter((f) => f.endsWith(".test.ts") && !f.startsWith("fuzz-"))
    .sort()
    .map((file) => ({
      file: `test/attack/${file}`,
      tests: (readFileSync(join(ATTACK_DIR, file), "utf8").match(/^\s*test(\.each\([^)]*\))?\(/gm) ?? []).length,
    }));
}

const seed = fuzzSeed();
const withProcess = !process.argv.includes("--no-process");
const dir = mkdtempSync(join(tmpdir(), "lft-attack-bench-"));
const started = performance.now();
const tallies: Tally[] = [];
try {
  const classes: [FuzzClass<never>, number][] = [
    [safetensorsClass(join(dir, "st")) as FuzzClass<never>, fuzzCount(800)],
    [modelLoadClass(join(dir, "model"), MODEL_DIR, builtinRegistry()) as FuzzClass<never>, Math.ceil(fuzzCount(800) / 10)],
    [(await datasetClass(join(dir, "data"), tokenizerDir("qwen3"))) as FuzzClass<never>, fuzzCount(600)],
    [recipeClass() as FuzzClass<never>, fuzzCount(1500)],
  ];
  if (withProcess) {
    for (const make of [recipeProcessClass, datasetProcessClass, safetensorsProcessClass]) classes.push([make(join(dir, "proc")) as FuzzClass<never>, 2]);
  }
  for (const [cls, count] of classes) {
    const t = await fuzz(cls, seed, count);
    tallies.push(t);
    console.log(
      `${t.cls}: ${t.inputs} inputs, ${t.refused} refused, ${t.accepted} accepted, ${t.failures.length} failing, slowest ${Math.round(t.slowestMs)} ms`,
    );
    if (t.failures.length > 0) console.log(describeFailures(t));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const seconds = (performance.now() - started) / 1000;
const classes = tallies.map(({ failures, ...counts }) => ({
  ...counts,
  slowestMs: Math.round(counts.slowestMs),
  failing: failures.map((f) => ({ index: f.index, kind: f.kind, detail: f.detail })),
}));
const sum = (key: "inputs" | "crashes" | "hangs" | "unlocated" | "silent" | "dataLost") => tallies.reduce((n, t) => n + t[key], 0);
const totals = {
  inputs: sum("inputs"),
  crashes: sum("crashes"),
  hangs: sum("hangs"),
  unlocated: sum("unlocated"),
  silentWrong: sum("silent"),
  dataLost: sum("dataLost"),
};
const others = attackTestCounts();
const path = writeResults("attack", {
  seed,
  reproduce: `LFT_FUZZ_SEED=${seed} node_modules/.bin/bun bench/attack.ts`,
  durationSeconds: Math.round(seconds * 10) / 10,
  totals,
  classes,
  attackTests: { files: others, tests: others.reduce((n, f) => n + f.tests, 0) },
});
console.log(
  table(
    tallies.map((t) => ({
      class: t.cls,
      inputs: t.inputs,
      refused: t.refused,
      accepted: t.accepted,
      crashes: t.crashes,
      hangs: t.hangs,
      unlocated: t.unlocated,
      silent: t.silent,
      "data lost": t.dataLost,
    })),
  ),
);
console.log(`${totals.inputs} inputs in ${seconds.toFixed(1)} s (seed ${seed}); ${others.length} other attack test files; wrote ${path}`);
if (totals.crashes + totals.hangs + totals.unlocated + totals.silentWrong + totals.dataLost > 0) process.exitCode = 1;
