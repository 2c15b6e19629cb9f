// `lft check` on recipes that pick badam, adam_mini or muon: their options join the train block's,
// defaults are LLaMA-Factory's, and a bad value is reported at its own line and column.
import { describe, expect, test } from "bun:test";
import { checkRecipe } from "../../../dsl/check.ts";
import type { Diagnostic } from "../../../dsl/diagnostics.ts";
import { parseRecipe } from "../../../dsl/parse.ts";
import { adamMiniEntry, badamEntry, muonEntry } from "../../../plugins/optimizers/index.ts";
import { fakeModels } from "../../dsl/fixtures/fake-plugins.ts";
import { registryWith } from "../../dsl/helpers.ts";

const registry = registryWith();
registry
  .use({
    ...fakeModels,
    name: "memory-optimizers",
    setup: (api) => {
      api.register.optimizers(badamEntry);
      api.register.optimizers(adamMiniEntry);
      api.register.optimizers(muonEntry);
    },
  })
  ._unsafeUnwrap();

const prelude = 'model llama "m"\ndataset alpaca "d.json"\nmethod full\n';

function check(body: string) {
  const recipe = parseRecipe(`${prelude}train sft {\n${body}\n}`, "r.lft")._unsafeUnwrap();
  const r = checkRecipe(recipe, { registry, baseDir: "/base" });
  return r.isOk() ? { options: r.value.recipe.actions[0]?.options, problems: [] as Diagnostic[] } : { options: undefined, problems: r.error };
}
const lines = (ps: readonly Diagnostic[]) => ps.map((d) => `${d.span?.line}:${d.span?.col} ${d.message}`);

describe("memory-saving optimizers in lft check", () => {
  test("defaults are LLaMA-Factory's", () => {
    const b = check("  optimizer = badam");
    expect(b.problems).toEqual([]);
    expect(b.options).toMatchObject({ mode: "layer", switch_mode: "ascending", switch_interval: 50, update_ratio: 0.05, mask_mode: "adjacent", verbose: 0 });
    expect(b.options).not.toHaveProperty("start_block");
    expect(check("  optimizer = muon").options).toMatchObject({ momentum: 0.95, nesterov: true, ns_steps: 5, beta1: 0.9, beta2: 0.999 });
    expect(check("  optimizer = adam_mini, beta2 = 0.95").options).toMatchObject({ beta1: 0.9, beta2: 0.95, eps: 1e-8 });
  });

  test("bad values are errors at their line", () => {
    expect(lines(check("  optimizer = badam\n  switch_mode = sideways").problems)[0]).toMatch(
      /^6:17 .*"switch_mode" must be one of "ascending", "descending", "random", "fixed", found string "sideways"/,
    );
    expect(lines(check("  optimizer = badam,\n  mode = ratio,\n  update_ratio = 2").problems)[0]).toMatch(
      /^7:\d+ .*"update_ratio" must be in \[0, 1\], found 2/,
    );
    expect(lines(check("  optimizer = badam\n  start_block = -1").problems)[0]).toMatch(/^6:\d+ .*"start_block"/);
    expect(lines(check("  optimizer = muon\n  ns_steps = 2.5").problems)[0]).toMatch(/^6:\d+ .*"ns_steps"/);
    expect(lines(check("  optimizer = adam_mini\n  momentum = 0.9").problems)[0]).toMatch(/^6:\d+ .*unknown option "momentum"/);
  });
});
