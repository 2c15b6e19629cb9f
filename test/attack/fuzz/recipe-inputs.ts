// Fuzz class 3, recipes: grammar-aware mutations of the example recipes (a value swapped for a hostile
// one, a line dropped, duplicated or moved, a key repeated or unknown, a verb or name changed), recipes
// generated from the grammar and byte-mutated, and random token soup — each parsed and checked against
// the real built-in plugins. A refused recipe's every error names a line and column inside the text (or,
// for a file or plugin problem, the file); a clean one must print, parse back to the same recipe, and
// print the same again.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRegistry, type Registry } from "../../../core/index.ts";
import { checkRecipe } from "../../../dsl/check.ts";
import { lftPlugin } from "../../../dsl/commands/index.ts";
import type { Diagnostic } from "../../../dsl/diagnostics.ts";
import { parseSource } from "../../../dsl/parse.ts";
import { printRecipe } from "../../../dsl/printer.ts";
import { checkResources } from "../../../dsl/resources.ts";
import { builtinPlugins } from "../../../plugins/index.ts";
import { shapeOf } from "../../dsl/recipe-shape.ts";
import type { FuzzClass, Verdict } from "./harness.ts";
import type { Gen } from "./random.ts";
import { keywords, RecipeGen, words } from "./recipe-gen.ts";

export const EXAMPLES_DIR = join(import.meta.dir, "../../../examples");

/** The extremes the generator reaches: a 5000-deep list and a 2 MB string (issue 15's cases) must give located errors or parse. */
export const EXTREME_DEPTH = 5000;
export const EXTREME_STRING = 2_000_000;

/** The example recipes (files only: running one in place leaves a `.lft/` folder beside them). */
export function exampleRecipes(dir = EXAMPLES_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith(".lft"))
    .map((f) => readFileSync(join(dir, f.name), "utf8"));
}

/** lft's own plugin and every built-in: the registry `lft check` uses (no project plugins). */
export function builtinRegistry(): Registry {
  const registry = createRegistry();
  for (const plugin of [lftPlugin, ...builtinPlugins]) registry.use(plugin)._unsafeUnwrap();
  return registry;
}

function hostileValue(g: Gen): string {
  switch (g.int(10)) {
    case 0:
      return g.pick(["0", "-1", "-0", "1e308", "1e999", "-1e999", "9007199254740993", "4611686018427387904", "1e-400", "0.0000001", "3.5", "1_0_0"]);
    case 1:
      return g.pick(["NaN", "Infinity", "-Infinity", "null", "undefined", "0x10", "1e", "--1", "1..2", "+5", "1%%", "200%"]);
    case 2:
      return `"${"s".repeat(g.pick([0, 1, 1000, EXTREME_STRING]))}"`;
    case 3:
      return g.pick(['"${undefined_var}"', '"${base}${base}"', "${x}", '"$${x}"', '"\\u0000"', '"\\q"', '"é\\t"', '"../../etc/passwd"', '"/dev/zero"', '"~"']);
    case 4: {
      const d = g.pick([2, 10, EXTREME_DEPTH]);
      return `${"[".repeat(d)}q_proj${"]".repeat(d)}`;
    }
    case 5:
      return `[${Array.from({ length: g.pick([0, 1, 1000]) }, () => g.pick(["q_proj", "1", '"x"', "all"])).join(", ")}]`;
    case 6:
      return g.pick(["true", "false", "yes", "on"]);
    case 7:
      return g.pick(["2 steps", "0 steps", "1e9 epochs", "-3 epochs", "5 tokens", "10%", "1.5 steps"]);
    case 8:
      return g.pick(words);
    default:
      return g.pick(["{", "}", "[", "]", "=", ",", "#", '"', ""]);
  }
}

const VALUE_RE = /(=\s*)("(?:[^"\\\n]|\\.)*"|[^\s,}\]#]+)/g;

/** One grammar-aware change to a recipe's lines. */
function mutateRecipe(g: Gen, text: string): string {
  const lines = text.split("\n");
  const at = g.int(lines.length);
  const line = lines[at]!;
  switch (g.int(9)) {
    case 0:
    case 1:
    case 2: {
      // Swap one written value for a hostile one.
      const values = [...line.matchAll(VALUE_RE)];
      if (values.length === 0) return mutateRecipe(g, text);
      const m = g.pick(values);
      const start = m.index! + m[1]!.length;
      lines[at] = line.slice(0, start) + hostileValue(g) + line.slice(start + m[2]!.length);
      break;
    }
    case 3:
      lines.splice(at, 1);
      break;
    case 4:
      lines.splice(g.int(lines.length + 1), 0, line);
      break;
    case 5: {
      const to = g.int(lines.length);
      [lines[at], lines[to]] = [lines[to]!, line];
      break;
    }
    case 6:
      lines.splice(at + 1, 0, `  ${g.pick([...words, "rank", "lr", "output", "zzz_unknown", "template", "cutoff", "dtype"])} = ${hostileValue(g)}`);
      break;
    case 7:
      // A verb, method, stage or family name replaced.
      lines[at] = line.replace(/\b(sft|dpo|grpo|pt|lora|full|qwen3|llama|alpaca|cosine|model|method|train|dataset|chat|export)\b/, () =>
        g.pick([...keywords, "kto", "ppo", "freeze", "gemma", "mystery", "sharegpt", "constant", "rm", ""]),
      );
      break;
    default:
      lines.splice(
        at,
        0,
        `${g.pick(["train", "eval", "chat", "export", "predict", "method lora", "model qwen3"])} ${hostileValue(g)}${g.chance(0.5) ? ` { ${g.pick(words)} = ${hostileValue(g)} }` : ""}`,
      );
  }
  return lines.join("\n");
}

const SOUP = [
  ...keywords,
  ...words,
  "{",
  "}",
  "[",
  "]",
  "=",
  ",",
  "\n",
  "\n",
  " ",
  "#",
  '"x"',
  '"${v}"',
  '"',
  "${",
  "1",
  "1e-4",
  "2 steps",
  "3 epochs",
  "10%",
  "true",
  "@",
  "\\",
  "\t",
  "é",
  "\u0000",
  "\r",
];

function tokenSoup(g: Gen): string {
  return Array.from({ length: g.int(80) }, () => g.pick(SOUP)).join(g.chance(0.5) ? " " : "");
}

export interface RecipeInput {
  readonly how: string;
  readonly text: string;
}

export function makeRecipe(g: Gen, examples: readonly string[]): RecipeInput {
  const gen = new RecipeGen(g.random);
  const kind = g.int(10);
  if (kind < 6) {
    let text = g.pick(examples);
    const n = 1 + g.int(3);
    for (let i = 0; i < n; i++) text = mutateRecipe(g, text);
    return { how: `example with ${n} grammar-aware mutation(s)`, text };
  }
  if (kind < 8) return { how: "generated recipe, byte-mutated", text: gen.mutate(gen.recipe()) };
  return { how: "token soup", text: tokenSoup(g) };
}

/** An error that points into the text, or (a file or plugin problem) names the file. */
export function locatedDiagnostic(d: Diagnostic, text: string): boolean {
  if (d.message.trim() === "") return false;
  if (d.span === undefined) return (d.kind === "io" || d.kind === "plugin") && d.file !== "";
  // An upper bound: the lexer may count \r, \u2028 and the like as line ends too.
  const lines = text.split(/[\n\r\v\f\u0085\u2028\u2029]/).length;
  return d.span.line >= 1 && d.span.line <= lines + 1 && d.span.col >= 1;
}

/**
 * Parses and checks one recipe. Errors → refused (with every error's location checked); clean → the
 * printed form must parse back to the same recipe and print the same again, or the result is silently wrong.
 */
export function tryRecipe(
  text: string,
  registry: Registry,
  opts: { file?: string; baseDir?: string; resources?: boolean } = {},
): { verdict: Verdict; diagnostics: readonly Diagnostic[] } {
  const file = opts.file ?? "fuzz.lft";
  const parsed = parseSource(text, file);
  const checked = checkRecipe(parsed.recipe, { registry, baseDir: opts.baseDir ?? "/nonexistent-fuzz-base", partial: parsed.diagnostics.length > 0 });
  const diagnostics = [...parsed.diagnostics, ...(checked.isErr() ? checked.error : checked.value.warnings)];
  // What `lft check` reads next: the model folder, tokenizer files, dataset names and output folders.
  if (opts.resources && checked.isOk() && parsed.diagnostics.length === 0) diagnostics.push(...checkResources(parsed.recipe, checked.value.recipe, registry));
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) {
    const unlocated = errors.find((d) => !locatedDiagnostic(d, text));
    const shown = unlocated ?? errors[0]!;
    const where = shown.span ? `${shown.file}:${shown.span.line}:${shown.span.col}` : `${shown.file} (no line)`;
    return { verdict: { outcome: "refused", message: `${unlocated ? "UNLOCATED " : ""}${where}: ${shown.message}` }, diagnostics };
  }
  if (parsed.diagnostics.length === 0) {
    const printed = printRecipe(parsed.recipe);
    const again = parseSource(printed, file);
    if (again.diagnostics.length > 0)
      return { verdict: { outcome: "silent", detail: `the printed form does not parse: ${again.diagnostics[0]!.message}\n${printed}` }, diagnostics };
    if (!Bun.deepEquals(shapeOf(again.recipe), shapeOf(parsed.recipe)))
      return { verdict: { outcome: "silent", detail: `print → parse changed the recipe:\n${printed}` }, diagnostics };
    if (printRecipe(again.recipe) !== printed) return { verdict: { outcome: "silent", detail: `printing is not idempotent:\n${printed}` }, diagnostics };
  }
  return { verdict: { outcome: "accepted" }, diagnostics };
}

export function recipeClass(registry: Registry = builtinRegistry(), examples: readonly string[] = exampleRecipes()): FuzzClass<RecipeInput> {
  return {
    name: "recipes",
    make: (g) => makeRecipe(g, examples),
    // Resolved against the examples folder, so the disk checks meet real models, data and dataset_info files.
    try: (input) => tryRecipe(input.text, registry, { baseDir: EXAMPLES_DIR, resources: true }).verdict,
    located: (message) => !message.startsWith("UNLOCATED "),
    show: (input) => `${input.how}:\n${input.text}`,
  };
}
