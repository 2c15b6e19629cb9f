// --set: lets, block options, numbered and named blocks, header parts; mistakes point into `--set`.

import { describe, expect, test } from "bun:test";
import { checkRecipe } from "../../dsl/check.ts";
import { formatDiagnostics } from "../../dsl/diagnostics.ts";
import { applyOverrides, overridesSource } from "../../dsl/overrides.ts";
import { parseRecipe } from "../../dsl/parse.ts";
import type { ResolvedRecipe } from "../../dsl/recipe.ts";
import { registryWith } from "./helpers.ts";

const registry = registryWith();
const base = [
  "let lr = 1e-4",
  'model llama "models/a"',
  'dataset alpaca "one.json"',
  'dataset alpaca "two.json" { weight = 2 }',
  "method lora { rank = 8 }",
  "train sft for 3 epochs { lr = ${lr} }",
  "train dpo for 1 epoch { beta = 0.1 }",
].join("\n");

function resolved(sets: string[]): ResolvedRecipe {
  const recipe = applyOverrides(parseRecipe(base, "r.lft")._unsafeUnwrap(), sets)._unsafeUnwrap();
  return checkRecipe(recipe, { registry, baseDir: "/" })._unsafeUnwrap().recipe;
}

function problems(sets: string[]): string {
  const result = applyOverrides(parseRecipe(base, "r.lft")._unsafeUnwrap(), sets);
  return result.isErr() ? formatDiagnostics(result.error, new Map([["--set", overridesSource(sets)]])) : "";
}

describe("--set changes the recipe before the check", () => {
  test("a let, an option of a block picked by name, one picked by number, a new option", () => {
    const r = resolved(["lr=2e-4", "train.dpo.beta=0.5", "dataset.1.weight=3", "method.alpha=32", "train.sft.warmup=5%"]);
    expect(r.actions[0]?.options).toMatchObject({ lr: 2e-4, warmup: 0.05 });
    expect(r.actions[1]?.options.beta).toBe(0.5);
    expect(r.datasets.map((d) => d.options.weight)).toEqual([3, 2]);
    expect(r.method?.options).toMatchObject({ rank: 8, alpha: 32 });
  });

  test("header parts: path, family, stage, duration; unquoted strings are strings", () => {
    const r = resolved(["model.path=models/b", "model.family=qwen3", "train.sft.for=200 steps", "train.1.stage=pt", "train.1.output=runs/x y"]);
    expect(r.model).toMatchObject({ family: "qwen3", path: "models/b" });
    expect(r.actions[0]).toMatchObject({ stage: "pt", duration: { amount: 200, unit: "steps" }, options: { output: "runs/x y" } });
    expect(r.actions[1]).toMatchObject({ stage: "dpo" });
  });

  test("a list value", () => {
    expect(resolved(["method.targets=[q_proj, k_proj]"]).method?.options.targets).toEqual(["q_proj", "k_proj"]);
  });
});

describe("mistakes", () => {
  test("ambiguous block, unknown block, unknown let, bad duration: all at once, with carets", () => {
    expect(problems(["train.lr=1", "trian.lr=1", "rl=3", "train.sft.for=3", "dataset.5.weight=1"])).toBe(
      [
        "--set:1:1: the recipe has 2 train blocks; say which: train.sft, train.dpo (or train.1 ... train.2)",
        " 1 | train.lr=1",
        "   | ^^^^^^^^",
        '--set:2:1: unknown block "trian"; did you mean "train"? (a --set key is a let name or block.key)',
        " 2 | trian.lr=1",
        "   | ^^^^^",
        '--set:3:1: the recipe has no let rl; did you mean "lr"? (a --set key is a let name or block.key, e.g. train.lr)',
        " 3 | rl=3",
        "   | ^^",
        '--set:4:15: train.for takes a duration such as "3 epochs" or "500 steps"',
        " 4 | train.sft.for=3",
        "   |               ^",
        "--set:5:1: there is no dataset block number 5; the recipe has 2",
        " 5 | dataset.5.weight=1",
        "   | ^^^^^^^^^^^^^^^^",
        "5 errors",
        "",
      ].join("\n"),
    );
  });

  test("a value that fails the check is reported at its place in --set", () => {
    const recipe = applyOverrides(parseRecipe(base, "r.lft")._unsafeUnwrap(), ["method.rank=0"])._unsafeUnwrap();
    const checked = checkRecipe(recipe, { registry, baseDir: "/" });
    expect(checked.isErr() && checked.error.map((d) => `${d.file}:${d.span?.line}:${d.span?.col} ${d.message}`)).toEqual([
      '--set:1:13 method "lora": option "rank" must be >= 1, found 0',
    ]);
  });

  test("no = at all", () => {
    expect(problems(["lr"])).toStartWith('--set:1:1: expected key=value, found "lr"');
  });
});
