// `lft check` on a qlora method block: the refused combinations are errors at the offending option's line,
// an unknown quant_type at its value; a good block resolves with LoRA's options and the quantisation's.
import { expect, test } from "bun:test";
import { checkRecipe } from "../../../../dsl/check.ts";
import { parseRecipe } from "../../../../dsl/parse.ts";
import methodsPlugin from "../../../../plugins/methods/index.ts";
import { fakeData, fakeModels, fakeStages } from "../../../dsl/fixtures/fake-plugins.ts";
import { registryWith } from "../../../dsl/helpers.ts";

const registry = registryWith([fakeModels, fakeData, fakeStages, methodsPlugin]);

function problems(source: string): string[] {
  const recipe = parseRecipe(source, "r.lft")._unsafeUnwrap();
  const result = checkRecipe(recipe, { registry, baseDir: "/base" });
  return result.isOk() ? [] : result.error.map((d) => `${d.span?.line} ${d.message}`);
}

const prelude = 'model llama "m"\ndataset alpaca "d.json"\n';

test("a qlora block checks clean and resolves its options", () => {
  const recipe = parseRecipe(
    `${prelude}method qlora {\n  rank = 8\n  quant_type = nf4\n  double_quant = true\n  targets = [q_proj, v_proj]\n}\n`,
    "r.lft",
  )._unsafeUnwrap();
  const result = checkRecipe(recipe, { registry, baseDir: "/base" })._unsafeUnwrap();
  expect(result.recipe.method?.options).toMatchObject({ rank: 8, quant_type: "nf4", double_quant: true, targets: ["q_proj", "v_proj"] });
});

test("dora and pissa over a quantised base are errors at their own lines", () => {
  const found = problems(`${prelude}method qlora {\n  quant_type = int8\n  dora = true\n  init = pissa\n}\n`);
  expect(found).toEqual([
    "5 dora = true needs the dense base weight; it is not supported over a int8 base",
    "6 init = pissa rewrites the base weight; it is not supported over a int8 base",
  ]);
});

test("an unknown quant_type is an error at its line", () => {
  const found = problems(`${prelude}method qlora {\n  rank = 4\n  quant_type = nf3\n}\n`);
  expect(found.length).toBe(1);
  expect(found[0]).toMatch(/^5 .*quant_type.*nf4/);
});
