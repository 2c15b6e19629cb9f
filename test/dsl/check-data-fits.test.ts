// lft check refuses a dataset block whose named format gives examples the train block's stage cannot
// use (rm, a pairwise stage, on alpaca data), at the dataset's line; fitting pairs check clean.
import { expect, test } from "bun:test";
import { createRegistry } from "../../core/index.ts";
import { checkRecipe } from "../../dsl/check.ts";
import { lftPlugin } from "../../dsl/commands/index.ts";
import { parseRecipe } from "../../dsl/parse.ts";
import { builtinPlugins } from "../../plugins/index.ts";

const registry = createRegistry();
for (const p of [lftPlugin, ...builtinPlugins]) registry.use(p)._unsafeUnwrap();

function problems(source: string): string[] {
  const r = checkRecipe(parseRecipe(source, "r.lft")._unsafeUnwrap(), { registry, baseDir: "/base" });
  return r.isOk() ? [] : r.error.map((d) => `${d.span?.line}:${d.span?.col} ${d.message}`);
}

const recipe = (format: string, stage: string) => `model llama "m"
dataset ${format} "d.json"
method lora
train ${stage} for 2 steps
`;

test("rm on an sft-format dataset is an error at the dataset's format", () => {
  expect(problems(recipe("alpaca", "rm"))).toEqual([
    '2:9 dataset format alpaca gives sft/text examples, but train rm (line 4) needs pairwise (set "ranking": true) examples',
  ]);
});

test("formats that fit their stage check clean; a dataset named in dataset_info.json is left to load time", () => {
  expect(problems(recipe("pairwise", "rm"))).toEqual([]);
  expect(problems(recipe("alpaca", "sft"))).toEqual([]);
  expect(problems('model llama "m"\ndataset "dpo_en_demo"\nmethod lora\ntrain rm for 2 steps\n')).toEqual([]);
});
