// `lft help [verb]`: usage, every verb the registry holds (plugins' included), --set and exit codes,
// laid out in columns by cliui.

import cliui from "cliui";
import { type CommandEntry, didYouMean, type Registry, suggest } from "../../core/index.ts";
import { ExitCode, exitCodeDocs } from "../exit-codes";
import { argsOrUsage } from "./common";

const width = Math.min(100, Math.max(60, process.stdout.columns ?? 80));

/** A two-column row; the left column is as wide as its section needs (within reason). */
function row(ui: ReturnType<typeof cliui>, a: string, b: string, left: number): void {
  ui.div({ text: a, width: left, padding: [0, 2, 0, 2] }, { text: b });
}

function columnFor(texts: readonly string[]): number {
  return Math.min(50, Math.max(...texts.map((t) => t.length)) + 6);
}

/** Verbs offered on the command line, sorted. */
export function cliVerbs(registry: Registry): CommandEntry[] {
  return registry.list("commands").filter((c) => c.scope !== "repl");
}

export function helpText(registry: Registry): string {
  const ui = cliui({ width });
  const usage: [string, string][] = [
    ["lft <recipe.lft> [--set key=value]...", "check a recipe, then run it"],
    ["lft <verb> [arguments]", "one of the verbs below"],
    ["lft", "open the REPL (statements, :help, tab completion)"],
  ];
  const verbs: [string, string][] = cliVerbs(registry).map((verb) => {
    const owner = registry.ownerOf("commands", verb.name);
    const from = owner === undefined || owner === "lft" ? "" : ` [${owner}]`;
    return [`${verb.name} ${verb.usage ?? ""}`.trim(), `${verb.doc ?? ""}${from}`];
  });
  const sets: [string, string][] = [
    ["lr=2e-4", "a let binding"],
    ["train.lr=2e-4", "an option of the train block (added if absent)"],
    ["dataset.2.weight=3", "a block chosen by number (1-based)"],
    ["train.dpo.beta=0.2", "a block chosen by its name"],
    ["model.path=models/x", "a header part: family, path, format, source, stage, prompt"],
    ['train.for="5 epochs"', "a train block's duration"],
  ];
  const left = columnFor([...usage, ...verbs, ...sets].map(([a]) => a));
  ui.div("lft: fine-tune language models from .lft recipes\n");
  ui.div("Usage:");
  for (const [a, b] of usage) row(ui, a, b, left);
  ui.div("\nVerbs:");
  for (const [a, b] of verbs) row(ui, a, b, left);
  ui.div("\n--set key=value (repeatable) changes the recipe before it is checked:");
  for (const [a, b] of sets) row(ui, a, b, left);
  ui.div("\nExit codes:");
  for (const [code, doc] of exitCodeDocs) row(ui, String(code), doc, 9);
  return `${ui.toString()}\n`;
}

/** One verb's usage and description (`lft help <verb>`, `lft <verb> --help`). */
export function verbHelp(verb: CommandEntry): string {
  const ui = cliui({ width });
  ui.div(`usage: lft ${verb.name} ${verb.usage ?? ""}`.trimEnd());
  ui.div({ text: verb.doc ?? "", padding: [0, 0, 0, 2] });
  return `${ui.toString()}\n`;
}

const usage = "[verb]";

export const helpCommand: CommandEntry = {
  name: "help",
  doc: "this overview, or one verb's usage",
  usage,
  scope: "cli",
  async run(argv, io, session) {
    const args = argsOrUsage("help", usage, argv, { positional: [0, 1] }, io);
    if (typeof args === "number") return args;
    const [name] = args.positional;
    if (name === undefined) {
      io.stdout(helpText(session.registry));
      return ExitCode.ok;
    }
    const verb = session.registry.get("commands", name);
    if (verb.isErr()) {
      const names = cliVerbs(session.registry).map((v) => v.name);
      io.stderr(`lft help: unknown verb "${name}"${didYouMean(suggest(name, names))}; verbs: ${names.join(", ")}\n`);
      return ExitCode.usage;
    }
    io.stdout(verbHelp(verb.value));
    return ExitCode.ok;
  },
};
