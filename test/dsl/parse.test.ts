// The lexer, parser and visitor: the example recipes read into the expected Recipe, syntax errors
// are reported all at once at their exact places, and the generated CST types match the grammar.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { type Diagnostic, formatDiagnostics } from "../../dsl/diagnostics.ts";
import { cstTypesPath, cstTypesSource } from "../../dsl/gen-cst-types.ts";
import { parseSource, parseValue } from "../../dsl/parse.ts";
import { type Block, blocksOf } from "../../dsl/recipe.ts";
import { examplesDir } from "./helpers.ts";

const at = (d: Diagnostic): string => `${d.span?.line}:${d.span?.col} ${d.message}`;

describe("the example recipes", () => {
  test("lora-sft.lft reads as written", () => {
    const { recipe, diagnostics } = parseSource(readFileSync(`${examplesDir}/lora-sft.lft`, "utf8"), "lora-sft.lft");
    expect(diagnostics).toEqual([]);
    expect(recipe.statements.map((s) => (s.kind === "block" ? s.block : s.kind))).toEqual([
      "let",
      "let",
      "model",
      "dataset",
      "dataset",
      "method",
      "train",
      "export",
      "chat",
    ]);
    const [model] = blocksOf(recipe, "model") as [Block];
    expect(model.name?.text).toBe("qwen3");
    expect(model.source?.raw).toBe("${base}");
    const train = blocksOf(recipe, "train")[0]!;
    expect(train.duration).toMatchObject({ amount: 3, unit: "epochs", text: "3" });
    const warmup = train.body?.entries.find((e) => e.key === "warmup");
    expect(warmup?.value).toMatchObject({ kind: "number", value: 10, unit: "%", text: "10" });
    const lr = train.body?.entries.find((e) => e.key === "lr");
    expect(lr?.value).toMatchObject({ kind: "number", value: 1e-4, text: "1e-4" });
    expect(lr?.keySpan).toMatchObject({ line: 22, col: 3, length: 2 });
    const targets = blocksOf(recipe, "method")[0]!.body?.entries.find((e) => e.key === "targets");
    expect(targets?.value.kind === "list" && targets.value.items.map((v) => (v.kind === "name" ? v.name : "?"))).toEqual([
      "q_proj",
      "k_proj",
      "v_proj",
      "o_proj",
    ]);
    expect(recipe.statements[0]!.comments.leading[0]).toStartWith("# LoRA fine-tune");
  });

  test("units: percentages, steps, singular epoch", () => {
    const { recipe, diagnostics } = parseSource("train pt for 1 epoch { warmup = 100 steps, holdout = 5%, cutoff = 512 tokens }", "u.lft");
    expect(diagnostics).toEqual([]);
    const train = recipe.statements[0] as Block;
    expect(train.duration).toMatchObject({ amount: 1, unit: "epochs" });
    expect(train.body?.entries.map((e) => e.value)).toMatchObject([
      { value: 100, unit: "steps" },
      { value: 5, unit: "%" },
      { value: 512, unit: "tokens" },
    ]);
  });

  test("a unit word is still an option name on the next line", () => {
    const { recipe, diagnostics } = parseSource("method m {\n  batch = 8\n  steps = 4\n}", "s.lft");
    expect(diagnostics).toEqual([]);
    expect((recipe.statements[0] as Block).body?.entries.map((e) => [e.key, e.value.kind])).toEqual([
      ["batch", "number"],
      ["steps", "number"],
    ]);
  });

  test("keywords work as option keys and values, not as block names", () => {
    const { recipe, diagnostics } = parseSource('dataset alpaca "x" { split = eval, model = chat }', "k.lft");
    expect(diagnostics).toEqual([]);
    expect((recipe.statements[0] as Block).body?.entries.map((e) => e.key)).toEqual(["split", "model"]);
  });
});

describe("syntax errors", () => {
  test("every broken statement is reported, the whole ones are kept", () => {
    const source = [
      'modle "x"', // 1: misspelt keyword
      "mehtod lora", // 2: another
      'model "m" { dtype = }', // 3: missing value
      "method lora { rank = 8 }", // 4: fine
      'dataset @ "d"', // 5: stray character
      "train sft for 3 { lr = 1e-4 }", // 6: duration without a unit
      'chat "unterminated', // 7
    ].join("\n");
    const { recipe, diagnostics } = parseSource(source, "bad.lft");
    expect(diagnostics.map(at)).toEqual([
      '1:1 expected a statement (use, let, model, dataset, method, train, eval, predict, export, chat), found "modle"; did you mean "model"?',
      '2:1 expected a statement (use, let, model, dataset, method, train, eval, predict, export, chat), found "mehtod"; did you mean "method"?',
      '3:21 expected a number, a string, true, false, a ${reference}, a name or "[" for a value, found "}"',
      '5:9 unexpected character "@"',
      '6:17 expected "epochs" or "steps" for a duration, found "{"',
      "7:6 string has no closing quote (strings end on the line they start)",
    ]);
    // Only the statement without errors survives.
    expect(recipe.statements.map((s) => (s.kind === "block" ? s.block : s.kind))).toEqual(["method"]);
  });

  test("a block whose } is missing does not swallow the next statement", () => {
    const { recipe, diagnostics } = parseSource('model "m" {\n  dtype = bf16\nmethod lora\n', "brace.lft");
    expect(diagnostics.map(at)).toEqual(['2:15 expected "}" in an option block, found the end of the statement']);
    expect(recipe.statements.map((s) => (s.kind === "block" ? s.block : s.kind))).toEqual(["method"]);
  });

  test("lists: a doubled comma is an error, a trailing comma is not", () => {
    expect(parseSource("method m { t = [a, b,] }", "l.lft").diagnostics).toEqual([]);
    expect(parseSource("method m { t = [a,, b] }", "l.lft").diagnostics.map(at)[0]).toStartWith("1:19 expected");
  });

  test("diagnostics print as file:line:col with the source line and a caret", () => {
    const source = 'model "m" { dtype = }\n';
    const { diagnostics } = parseSource(source, "caret.lft");
    expect(formatDiagnostics(diagnostics, new Map([["caret.lft", source]]))).toBe(
      [
        'caret.lft:1:21: expected a number, a string, true, false, a ${reference}, a name or "[" for a value, found "}"',
        ' 1 | model "m" { dtype = }',
        "   |                     ^",
        "1 error",
        "",
      ].join("\n"),
    );
  });
});

describe("parseValue (--set and the REPL)", () => {
  test("reads one value with its unit", () => {
    expect(parseValue("5%", "v")._unsafeUnwrap()).toMatchObject({ kind: "number", value: 5, unit: "%", span: { col: 1 } });
    expect(parseValue("[q_proj, v_proj]", "v")._unsafeUnwrap()).toMatchObject({ kind: "list", items: [{ name: "q_proj" }, { name: "v_proj" }] });
  });

  test("rejects two values or none", () => {
    expect(parseValue("1 2", "v").isErr()).toBe(true);
    expect(parseValue("", "v").isErr()).toBe(true);
  });
});

test("dsl/cst.d.ts is generated from the current grammar (bun dsl/gen-cst-types.ts)", () => {
  expect(readFileSync(cstTypesPath, "utf8")).toBe(cstTypesSource());
});
