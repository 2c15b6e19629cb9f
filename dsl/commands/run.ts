// `lft <recipe.lft>` (or `lft run <recipe.lft>`): check, then hand the recipe to the runRecipe hook.
// Until a runner plugin exists a valid recipe ends with "nothing can run it" (exit 3), never a crash.

import { type CommandEntry, interruptOnSignals } from "../../core/index.ts";
import { exitCodeFor } from "../exit-codes";
import { loadRecipeFile } from "../pipeline";
import { checkResources } from "../resources";
import { runRecipe } from "../run";
import { argsOrUsage, liveOf, report, signalOf } from "./common";

const usage = "<recipe.lft> [--set key=value]...";

export const runCommand: CommandEntry = {
  name: "run",
  doc: "check a recipe, then run it (lft <recipe.lft> is the same)",
  usage,
  scope: "cli",
  async run(argv, io, session) {
    const args = argsOrUsage("run", usage, argv, { positional: [1, 1], sets: true }, io);
    if (typeof args === "number") return args;
    const path = args.positional[0]!;
    const loaded = await loadRecipeFile(path, session.registry, io.cwd, args.sets);
    if (loaded.isErr()) {
      report(io, loaded.error.diagnostics, loaded.error.sources);
      return exitCodeFor(loaded.error.diagnostics);
    }
    report(io, loaded.value.checked.warnings, loaded.value.sources);
    // What would fail after the model loads (a missing file, a template the tokenizer lacks) fails here, located.
    const missing = checkResources(loaded.value.recipe, loaded.value.checked.recipe, session.registry);
    if (missing.length > 0) {
      report(io, missing, loaded.value.sources);
      return exitCodeFor(missing);
    }
    if (session.mode === "repl") return runRecipe(loaded.value.checked.recipe, session.registry, { io, live: liveOf(session), signal: signalOf(session) });
    // On the command line Ctrl-C (or SIGTERM) stops the run after the current step, with a checkpoint and
    // status "interrupted"; a second one kills. The REPL installs its own handler.
    const guard = interruptOnSignals();
    try {
      return await runRecipe(loaded.value.checked.recipe, session.registry, { io, live: liveOf(session), signal: guard.signal });
    } finally {
      guard.dispose();
    }
  },
};
