// Recipe inputs for the fuzzer: recipes valid by construction (every statement kind, options,
// lists, interpolation, comments) and byte-level mutations of any text (deleted, inserted, duplicated,
// swapped runs). Moved here from test/dsl/fuzz.test.ts; the grammar-aware mutations of the examples
// and the token soup are in recipe-inputs.ts.

export const words = [
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
export const keywords = ["use", "let", "model", "dataset", "method", "train", "eval", "predict", "export", "chat", "for"];

export class RecipeGen {
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
