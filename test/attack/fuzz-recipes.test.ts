// Attack suite, fuzzer class 3: recipes. Generated recipes (valid by construction) parse cleanly and
// survive print → parse unchanged; mutated recipes (bytes; grammar-aware changes to the examples:
// hostile values, lines dropped or moved, unknown keys and names) and random token soup never throw or
// hang, every error names a line and column, and whatever parses cleanly still round-trips. The first
// three tests check against fake plugins with fixed seeds (folded in from test/dsl/fuzz.test.ts); the
// last against the built-in plugins, seeded by LFT_FUZZ_SEED with LFT_FUZZ_COUNT inputs.

import { expect, test } from "bun:test";
import { parseSource } from "../../dsl/parse.ts";
import { registryWith } from "../dsl/helpers.ts";
import { describeFailures, fuzz, HANG_MS } from "./fuzz/harness.ts";
import { fuzzCount, fuzzSeed, mulberry32 } from "./fuzz/random.ts";
import { RecipeGen } from "./fuzz/recipe-gen.ts";
import { exampleRecipes, recipeClass, tryRecipe } from "./fuzz/recipe-inputs.ts";

const fakes = registryWith();

/** Parses, checks and (when clean) round-trips one input against the fake plugins; throws on a wrong result. */
function exercise(text: string, context: string): { ms: number; clean: boolean } {
  const start = performance.now();
  const { verdict, diagnostics } = tryRecipe(text, fakes);
  const bad =
    verdict.outcome === "silent" ? verdict.detail : verdict.outcome === "refused" && verdict.message.startsWith("UNLOCATED ") ? verdict.message : null;
  if (bad !== null) throw new Error(`${context}\n--- input ---\n${text}\n--- end ---\n${bad}`);
  return { ms: performance.now() - start, clean: !diagnostics.some((d) => d.kind === "syntax") };
}

test("generated recipes parse cleanly and round-trip (600, seed 1)", () => {
  const gen = new RecipeGen(mulberry32(1));
  let slowest = 0;
  for (let i = 0; i < 600; i++) {
    const text = gen.recipe();
    const { ms, clean } = exercise(text, `generated recipe ${i}`);
    if (!clean) throw new Error(`generated recipe ${i} did not parse: ${parseSource(text, "gen.lft").diagnostics[0]!.message}\n${text}`);
    slowest = Math.max(slowest, ms);
  }
  expect(slowest).toBeLessThan(HANG_MS);
}, 30_000);

test("mutated recipes never throw or hang (1,000, seed 2)", () => {
  const gen = new RecipeGen(mulberry32(2));
  const seeds = exampleRecipes();
  let slowest = 0;
  let clean = 0;
  for (let i = 0; i < 1000; i++) {
    const base = i % 2 === 0 ? gen.pick(seeds) : gen.recipe();
    const result = exercise(gen.mutate(base), `mutation ${i}`);
    slowest = Math.max(slowest, result.ms);
    if (result.clean) clean++;
  }
  // Both outcomes occur: the mutations reach the error paths and sometimes stay valid.
  expect(clean).toBeGreaterThan(50);
  expect(clean).toBeLessThan(950);
  expect(slowest).toBeLessThan(HANG_MS);
}, 30_000);

test("random bytes never throw (400, seed 3)", () => {
  const random = mulberry32(3);
  for (let i = 0; i < 400; i++) {
    const text = Array.from({ length: Math.floor(random() * 200) }, () => String.fromCharCode(9 + Math.floor(random() * 118))).join("");
    expect(exercise(text, `random input ${i}`).ms).toBeLessThan(HANG_MS);
  }
}, 30_000);

test("hostile recipes against the built-in plugins: a located error or a recipe that round-trips", async () => {
  const seed = fuzzSeed();
  const t = await fuzz(recipeClass(), seed, fuzzCount(1500));
  console.log(`recipes: seed ${seed}, ${t.inputs} inputs, ${t.refused} refused, ${t.accepted} accepted, slowest ${Math.round(t.slowestMs)} ms`);
  if (t.failures.length > 0) throw new Error(describeFailures(t));
  expect(t.refused).toBeGreaterThan(t.inputs / 2);
  expect(t.accepted).toBeGreaterThan(0);
}, 60_000);
