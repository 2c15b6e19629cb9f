// Seeded fuzzing of the parser, printer and checker. Generated recipes (valid by construction) must
// parse cleanly and survive print → parse unchanged; mutated recipes (bytes deleted, inserted,
// duplicated) must never throw or hang: each yields a recipe plus diagnostics, and whatever parses
// cleanly still round-trips. A failure prints the seed and the input.

import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { checkRecipe } from "../../dsl/check.ts";
import { parseSource } from "../../dsl/parse.ts";
import { printRecipe } from "../../dsl/printer.ts";
import { examplesDir, registryWith } from "./helpers.ts";
import { shapeOf } from "./recipe-shape.ts";

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = [
  "lora",
  "sft",
  "dpo",
  "qwen3",
  "llama",
  "alpaca",
  "rank",
  "alpha",
  "lr",
  "warmup",
  "targets",
  "q_proj",
  "steps",
  "epochs",
  "eval",
  "model",
  "cosine",
  "x-1",
  "_a",
];
const keywords = ["use", "let", "model", "dataset", "method", "train", "eval", "predict", "export", "chat", "for"];

class Gen {
  constructor(readonly random: () => number) {}
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  name(): string {
    return this.pick(words.filter((w) => !keywords.includes(w)));
  }
  string(): string {
    const parts = ["data", "/", "x.json", "${v}", '\\"', "\\\\", " ", "é", "\\n", "$", "\\${lit}"];
    return `"${Array.from({ length: this.int(4) }, () => this.pick(parts)).join("")}"`;
  }
  number(): string {
    const n = this.pick(["0", "1", "8", "1e-4", "-0.5", "2048", "20_000", "3.25", "5E+2"]);
    return this.chance(0.3) ? `${n}${this.pick(["%", " steps", " epochs", " tokens"])}` : n;
  }
  value(depth = 0): string {
    switch (this.int(depth > 1 ? 5 : 6)) {
      case 0:
        return this.number();
      case 1:
        return this.string();
      case 2:
        return this.pick(["true", "false"]);
      case 3:
        return this.pick(["${v}", "${base}"]);
      case 4:
        return this.pick([...words.filter((w) => !["steps", "epochs"].includes(w)), "eval", "model"]);
      default: {
        const items = Array.from({ length: this.int(4) }, () => this.value(depth + 1));
        return `[${items.join(", ")}${items.length > 0 && this.chance(0.2) ? "," : ""}]`;
      }
    }
  }
  comment(): string {
    return this.chance(0.2) ? `  # ${this.pick(["note", "why", "{ not code }"])}` : "";
  }
  body(): string {
    if (this.chance(0.3)) return "";
    const entry = (): string => `${this.pick([...words, "split", "eval"])} = ${this.value()}`;
    const entries = Array.from({ length: this.int(5) }, entry);
    // A comment runs to the end of its line, so only multi-line bodies get them.
    return this.chance(0.5) ? ` { ${entries.join(", ")} }` : ` {\n${entries.map((e) => `  ${e}${this.comment()}`).join("\n")}\n}`;
  }
  statement(): string {
    const lead = this.chance(0.2) ? `# ${this.pick(["section", "about this"])}\n` : "";
    const blank = this.chance(0.2) ? "\n" : "";
    const kind = this.pick(["use", "let", "model", "dataset", "method", "train", "eval", "predict", "export", "chat"]);
    const opt = (s: string): string => (this.chance(0.5) ? s : "");
    let text: string;
    switch (kind) {
      case "use":
        text = `use ${this.string()}`;
        break;
      case "let":
        text = `let ${this.name()} = ${this.value()}`;
        break;
      case "model":
      case "dataset":
      case "predict":
        text = `${kind}${opt(` ${this.name()}`)} ${this.string()}${this.body()}`;
        break;
      case "method":
        text = `method ${this.name()}${this.body()}`;
        break;
      case "train":
        text = `train${opt(` ${this.name()}`)}${opt(` ${opt("for ")}${this.pick(["1", "3", "0.5", "200"])} ${this.pick(["epoch", "epochs", "steps", "step"])}`)}${this.body()}`;
        break;
      case "eval":
        text = `eval${opt(` ${this.name()}`)}${opt(` ${this.string()}`)}${this.body()}`;
        break;
      case "export":
        text = `export ${this.string()}${this.body()}`;
        break;
      default:
        text = `chat${opt(` ${this.string()}`)}${this.body()}`;
    }
    return `${blank}${lead}${text}${this.comment()}`;
  }
  recipe(): string {
    return Array.from({ length: 1 + this.int(8) }, () => this.statement()).join("\n");
  }
  mutate(text: string): string {
    const alphabet = ["{", "}", "[", "]", "=", ",", '"', "%", "$", "#", "\n", " ", "a", "1", "e", "-", ".", "\\", "@", ...keywords.map((k) => ` ${k} `)];
    let out = text;
    for (let n = 1 + this.int(4); n > 0; n--) {
      const at = this.int(out.length + 1);
      const len = 1 + this.int(6);
      switch (this.int(4)) {
        case 0:
          out = out.slice(0, at) + out.slice(at + len);
          break;
        case 1:
          out = out.slice(0, at) + this.pick(alphabet) + out.slice(at);
          break;
        case 2:
          out = out.slice(0, at) + out.slice(at, at + len * 3) + out.slice(at);
          break;
        default:
          out = out.slice(0, at) + out.slice(at + len, at + 2 * len) + out.slice(at, at + len) + out.slice(at + 2 * len);
      }
    }
    return out;
  }
}

const registry = registryWith();

/** Parses, checks and (when clean) round-trips one input; returns the milliseconds it took and whether it parsed cleanly. */
function exercise(text: string, context: string): { ms: number; clean: boolean } {
  const start = performance.now();
  let clean = false;
  try {
    const parsed = parseSource(text, "fuzz.lft");
    clean = parsed.diagnostics.length === 0;
    // Plain checks rather than expect(): this runs thousands of times.
    for (const d of parsed.diagnostics) {
      if (d.span !== undefined && (d.span.line < 1 || d.span.col < 1)) throw new Error(`diagnostic outside the text: ${JSON.stringify(d)}`);
      if (d.message === "") throw new Error("diagnostic without a message");
    }
    checkRecipe(parsed.recipe, { registry, baseDir: "/", partial: parsed.diagnostics.length > 0 });
    if (parsed.diagnostics.length === 0) {
      const printed = printRecipe(parsed.recipe);
      const again = parseSource(printed, "fuzz.lft");
      if (again.diagnostics.length > 0) throw new Error(`printed form does not parse: ${again.diagnostics[0]!.message}\n${printed}`);
      if (!Bun.deepEquals(shapeOf(again.recipe), shapeOf(parsed.recipe))) throw new Error(`print → parse changed the recipe:\n${printed}`);
      if (printRecipe(again.recipe) !== printed) throw new Error(`printing is not idempotent:\n${printed}`);
    }
  } catch (cause) {
    throw new Error(`${context}\n--- input ---\n${text}\n--- end ---\n${cause instanceof Error ? cause.message : String(cause)}`);
  }
  return { ms: performance.now() - start, clean };
}

// A guard against hangs (exponential backtracking, loops), not a speed target: one input normally takes
// about a millisecond, and a loaded 2-core CI machine must not turn a slow scheduler tick into a failure.
const HANG_MS = 5000;

test("generated recipes parse cleanly and round-trip (600, seed 1)", () => {
  const gen = new Gen(rng(1));
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
  const gen = new Gen(rng(2));
  const seeds = readdirSync(examplesDir, { withFileTypes: true })
    // Files only: running an example in place leaves a `.lft/` run store folder beside them.
    .filter((f) => f.isFile() && f.name.endsWith(".lft"))
    .map((f) => f.name)
    .map((f) => readFileSync(`${examplesDir}/${f}`, "utf8"));
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
  const random = rng(3);
  for (let i = 0; i < 400; i++) {
    const text = Array.from({ length: Math.floor(random() * 200) }, () => String.fromCharCode(9 + Math.floor(random() * 118))).join("");
    expect(exercise(text, `random input ${i}`).ms).toBeLessThan(HANG_MS);
  }
}, 30_000);
