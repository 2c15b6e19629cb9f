// `lft check <recipe.lft>...`: parse, load plugins, validate; print every problem, run nothing.

import type { CommandEntry } from "../../core/index.ts";
import { ExitCode, exitCodeFor } from "../exit-codes";
import { loadRecipeFile } from "../pipeline";
import { argsOrUsage, report } from "./common";

const usage = "<recipe.lft>... [--set key=value]...";

export const checkCommand: CommandEntry = {
  name: "check",
  doc: "validate recipes against the loaded plugins without running them",
  usage,
  scope: "both",
  async run(argv, io, session) {
    const args = argsOrUsage("check", usage, argv, { positional: [1, Number.POSITIVE_INFINITY], sets: true }, io);
    if (typeof args === "number") return args;
    let worst: number = ExitCode.ok;
    for (const path of args.positional) {
      const loaded = await loadRecipeFile(path, session.registry, io.cwd, args.sets);
      if (loaded.isErr()) {
        report(io, loaded.error.diagnostics, loaded.error.sources);
        worst = Math.max(worst, exitCodeFor(loaded.error.diagnostics));
        continue;
      }
      report(io, loaded.value.checked.warnings, loaded.value.sources);
      io.stdout(`${path}: ok\n`);
    }
    return worst;
  },
};
