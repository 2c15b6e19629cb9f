// The REPL's `:commands`: inspection (:params, :modules, :memory), the session as a recipe
// (:recipe, :save), :plugins, :help, :quit; plugins' REPL verbs are reached through the registry.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { defaultBackend } from "../../core/index.ts";
import { describePlugins } from "../commands/plugins";
import { ExitCode } from "../exit-codes";
import { statementKeywords } from "../lexer";
import { printRecipe } from "../printer";
import { liveModel } from "../run";
import { describeMemory, describeModules, describeParams } from "./inspect";
import { rebaseRecipe } from "./save";
import type { ReplState } from "./state";

export interface MetaCommand {
  readonly usage: string;
  readonly doc: string;
  run(args: readonly string[], repl: ReplState): number | "quit" | Promise<number>;
}

const noModel = "no model is loaded (a runner plugin loads it when the session has a model block)\n";

export const metaCommands: Readonly<Record<string, MetaCommand>> = {
  help: {
    usage: ":help",
    doc: "statements, :commands and keys",
    run(_args, repl) {
      const registry = repl.session.registry;
      const plugins = registry
        .list("commands")
        .filter((c) => (c.scope === "repl" || c.scope === "both") && !Object.hasOwn(metaCommands, c.name))
        .map((c) => {
          const owner = registry.ownerOf("commands", c.name);
          return `  :${`${c.name} ${c.usage ?? ""}`.trim().padEnd(22)} ${c.doc ?? ""}${owner === "lft" ? "" : ` [${owner}]`}`;
        });
      const meta = Object.values(metaCommands).map((m) => `  ${m.usage.padEnd(23)} ${m.doc}`);
      repl.session.io.stdout(
        [
          "Statements use the recipe grammar; a block may span lines until its braces close:",
          `  ${statementKeywords.join(", ")}`,
          '  e.g. model llama "models/tiny"   method lora { rank = 8 }   train sft for 20 steps',
          "Commands:",
          ...meta,
          ...(plugins.length > 0 ? ["Verbs, as on the command line:", ...plugins] : []),
          "Keys: Tab completes, Up/Down walk the history, Ctrl-C cancels an input or a run, Ctrl-D exits.",
          "",
        ].join("\n"),
      );
      return ExitCode.ok;
    },
  },
  params: {
    usage: ":params [text]",
    doc: "parameter counts; with text, the tensors whose name contains it",
    run(args, repl) {
      const model = liveModel(repl.session.live);
      repl.session.io.stdout(model === undefined ? noModel : describeParams(model, args[0]));
      return ExitCode.ok;
    },
  },
  modules: {
    usage: ":modules",
    doc: "the model's module tree with parameter counts",
    run(_args, repl) {
      const model = liveModel(repl.session.live);
      repl.session.io.stdout(model === undefined ? noModel : describeModules(model));
      return ExitCode.ok;
    },
  },
  memory: {
    usage: ":memory",
    doc: "live and peak bytes of the tensor allocator",
    run(_args, repl) {
      const backend = defaultBackend();
      const cpuEntry = repl.session.registry.get("backends", "cpu");
      const cpu = cpuEntry.isOk() ? cpuEntry.value.open() : undefined;
      let text = cpu === undefined ? "" : describeMemory(cpu.allocator.stats(), "cpu");
      if (backend !== cpu) text += describeMemory(backend.allocator.stats(), backend.name);
      repl.session.io.stdout(text);
      return ExitCode.ok;
    },
  },
  recipe: {
    usage: ":recipe",
    doc: "the session so far as a recipe file",
    run(_args, repl) {
      const text = printRecipe(repl.recipe);
      repl.session.io.stdout(text === "" ? "# (the session is empty)\n" : text);
      return ExitCode.ok;
    },
  },
  save: {
    usage: ":save <file.lft>",
    doc: "write :recipe to a file (paths rewritten to resolve from its folder)",
    run(args, repl) {
      const [path] = args;
      if (path === undefined) {
        repl.session.io.stderr("usage: :save <file.lft>\n");
        return ExitCode.usage;
      }
      try {
        mkdirSync(dirname(resolve(repl.cwd, path)), { recursive: true });
        writeFileSync(resolve(repl.cwd, path), printRecipe(rebaseRecipe(repl.recipe, repl.cwd, path)));
      } catch (cause) {
        repl.session.io.stderr(`cannot write ${path}: ${cause instanceof Error ? cause.message : String(cause)}\n`);
        return ExitCode.ioError;
      }
      repl.session.io.stdout(`saved ${path}\n`);
      return ExitCode.ok;
    },
  },
  undo: {
    usage: ":undo",
    doc: "take back the last statement (declarations are reloaded; trained weights stay)",
    async run(_args, repl) {
      const undone = await repl.undo();
      if (undone === false) repl.session.io.stdout("(nothing to undo)\n");
      return undone === false ? ExitCode.ok : undone;
    },
  },
  drop: {
    usage: ":drop <block> [n]",
    doc: "remove a block, e.g. :drop dataset 2 (default: the last of that kind)",
    async run(args, repl) {
      const [kind, nth] = args;
      const n = nth === undefined ? undefined : Number(nth);
      if (kind === undefined || (n !== undefined && (!Number.isInteger(n) || n < 1))) {
        repl.session.io.stderr("usage: :drop <block> [n], e.g. :drop dataset 2\n");
        return ExitCode.usage;
      }
      const dropped = await repl.drop(kind, n);
      if (typeof dropped === "string") {
        repl.session.io.stderr(`cannot drop: ${dropped}\n`);
        return ExitCode.usage;
      }
      if (dropped === ExitCode.ok) repl.session.io.stdout(`dropped ${kind}${nth === undefined ? "" : ` ${nth}`}\n`);
      return dropped;
    },
  },
  reset: {
    usage: ":reset",
    doc: "forget every statement and unload the model (:undo brings the statements back)",
    run(_args, repl) {
      repl.reset();
      repl.session.io.stdout("(session reset)\n");
      return ExitCode.ok;
    },
  },
  plugins: {
    usage: ":plugins",
    doc: "loaded plugins and what each registered",
    run(_args, repl) {
      repl.session.io.stdout(describePlugins(repl.session.registry));
      return ExitCode.ok;
    },
  },
  quit: { usage: ":quit", doc: "leave (Ctrl-D too)", run: () => "quit" },
};
