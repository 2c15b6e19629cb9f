// The canonical printer: examples are already canonical, printing keeps every comment and blank
// line, and parse → print → parse gives the same recipe.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { parseRecipe } from "../../dsl/parse.ts";
import { printRecipe } from "../../dsl/printer.ts";
import { examplesDir } from "./helpers.ts";
import { shapeOf } from "./recipe-shape.ts";

const examples = readdirSync(examplesDir, { withFileTypes: true })
  .filter((f) => f.isFile() && f.name.endsWith(".lft"))
  .map((f) => f.name);

describe("every example", () => {
  test("there are at least three", () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
  });
  for (const name of examples) {
    test(`${name} is in canonical form and round-trips`, () => {
      const text = readFileSync(`${examplesDir}/${name}`, "utf8");
      const recipe = parseRecipe(text, name)._unsafeUnwrap();
      const printed = printRecipe(recipe);
      expect(printed).toBe(text);
      expect(shapeOf(parseRecipe(printed, name)._unsafeUnwrap())).toEqual(shapeOf(recipe));
    });
  }
  test("each opens with a comment giving the command that runs it", () => {
    for (const name of examples) {
      expect(readFileSync(`${examplesDir}/${name}`, "utf8")).toContain(`# Run: ./lft examples/${name}`);
    }
  });
});

describe("layout", () => {
  const messy = [
    "   # header comment",
    "",
    "",
    'let   x="a"   # why x',
    "method lora{rank=8,alpha=16",
    "  # about targets",
    "  targets=[q_proj,v_proj,]",
    "",
    "  dropout = 0.1  # trailing",
    "  # closing note",
    "}",
    "train sft 3 epochs {lr=1e-4, warmup=10%}",
    "# the end",
  ].join("\n");

  test("normalises spacing, keeps comments and single blank lines", () => {
    const printed = printRecipe(parseRecipe(messy, "m.lft")._unsafeUnwrap());
    expect(printed).toBe(
      [
        "# header comment",
        "",
        'let x = "a"  # why x',
        "method lora {",
        "  rank = 8",
        "  alpha = 16",
        "  # about targets",
        "  targets = [q_proj, v_proj]",
        "",
        "  dropout = 0.1  # trailing",
        "  # closing note",
        "}",
        "train sft for 3 epochs { lr = 1e-4, warmup = 10% }",
        "# the end",
        "",
      ].join("\n"),
    );
    expect(printRecipe(parseRecipe(printed, "m.lft")._unsafeUnwrap())).toBe(printed);
  });

  test("a block goes multi-line past three options or 80 columns", () => {
    const four = printRecipe(parseRecipe("method m { a = 1, b = 2, c = 3, d = 4 }", "f.lft")._unsafeUnwrap());
    expect(four.split("\n").length).toBe(7);
    const long = printRecipe(parseRecipe(`dataset alpaca "${"x".repeat(60)}" { weight = 2, max_samples = 10 }`, "l.lft")._unsafeUnwrap());
    expect(long.split("\n")[1]).toBe("  weight = 2");
  });

  test("an empty body disappears; 1 epoch stays singular", () => {
    expect(printRecipe(parseRecipe("train sft for 1 epochs {}", "e.lft")._unsafeUnwrap())).toBe("train sft for 1 epoch\n");
  });
});
