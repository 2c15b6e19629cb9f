// `lft import config.yaml`: a LLaMA-Factory config as a recipe on stdout; a warning on stderr for each
// key that could not be carried over, so `lft import x.yaml > x.lft` leaves a clean recipe.

import type { CommandEntry } from "../../core/index.ts";
import { ExitCode, exitCodeFor } from "../exit-codes";
import { importLlamaFactory } from "../import/llamafactory";
import { readSource } from "../pipeline";
import { argsOrUsage, report } from "./common";

const usage = "<config.yaml>";

export const importCommand: CommandEntry = {
  name: "import",
  doc: "print a recipe made from a LLaMA-Factory YAML training config (warnings on stderr)",
  usage,
  scope: "cli",
  async run(argv, io) {
    const args = argsOrUsage("import", usage, argv, { positional: [1, 1] }, io);
    if (typeof args === "number") return args;
    const path = args.positional[0]!;
    const text = readSource(path, io.cwd);
    if (text.isErr()) {
      report(io, [text.error], new Map());
      return ExitCode.ioError;
    }
    const sources = new Map([[path, text.value]]);
    const imported = importLlamaFactory(text.value, path);
    if (imported.isErr()) {
      report(io, imported.error, sources);
      return exitCodeFor(imported.error);
    }
    io.stdout(imported.value.text);
    report(io, imported.value.warnings, sources);
    return ExitCode.ok;
  },
};
