// `lft fmt <recipe.lft>...`: print the canonical form, or rewrite files in place (--write), or only
// say which files are not canonical (--check). Formatting needs no plugins: it only parses.

import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { CommandEntry } from "../../core/index.ts";
import { ExitCode, exitCodeFor } from "../exit-codes";
import { parseRecipe } from "../parse";
import { readSource } from "../pipeline";
import { printRecipe } from "../printer";
import { argsOrUsage, report } from "./common";

const usage = "<recipe.lft>... [--write | --check]";

export const fmtCommand: CommandEntry = {
  name: "fmt",
  doc: "print recipes in canonical form (--write rewrites them, --check lists the ones that differ)",
  usage,
  scope: "cli",
  async run(argv, io) {
    const args = argsOrUsage("fmt", usage, argv, { positional: [1, Number.POSITIVE_INFINITY], flags: ["--write", "--check"] }, io);
    if (typeof args === "number") return args;
    if (args.flags.has("--write") && args.flags.has("--check")) {
      io.stderr("lft fmt: --write and --check exclude each other\n");
      return ExitCode.usage;
    }
    let worst: number = ExitCode.ok;
    for (const path of args.positional) {
      const text = readSource(path, io.cwd);
      if (text.isErr()) {
        report(io, [text.error], new Map());
        worst = Math.max(worst, ExitCode.ioError);
        continue;
      }
      const parsed = parseRecipe(text.value, path);
      if (parsed.isErr()) {
        report(io, parsed.error, new Map([[path, text.value]]));
        worst = Math.max(worst, exitCodeFor(parsed.error));
        continue;
      }
      const canonical = printRecipe(parsed.value);
      if (args.flags.has("--check")) {
        if (canonical !== text.value) {
          io.stdout(`${path}: not formatted\n`);
          worst = Math.max(worst, ExitCode.notFormatted);
        }
      } else if (args.flags.has("--write")) {
        if (canonical === text.value) continue;
        try {
          writeFileSync(resolve(io.cwd, path), canonical);
          io.stderr(`formatted ${path}\n`);
        } catch (cause) {
          io.stderr(`${path}: cannot write: ${cause instanceof Error ? cause.message : String(cause)}\n`);
          worst = Math.max(worst, ExitCode.ioError);
        }
      } else io.stdout(canonical);
    }
    return worst;
  },
};
