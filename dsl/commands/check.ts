// `lft check <recipe.lft>...`: parse, load plugins, validate, then what would fail once the run starts
// (files, dataset names, the model's config and family, template tokens, eval/predict data, output
// folders; dsl/resources.ts); print every problem, run nothing. --syntax-only skips the disk.
// A recipe that trains gets the plan's one line (peak memory by part, step time on this machine).
// `use` packages are not imported: their package.json declarations are checked against (--trust imports them).

import type { CommandEntry, Registry, ResolvedRecipe } from "../../core/index.ts";
import { ExitCode, exitCodeFor } from "../exit-codes";
import { outputsInUse } from "../output-in-use";
import { loadRecipeFile } from "../pipeline";
import { deviceNamed } from "../plan/devices";
import { planRecipe } from "../plan/plan";
import { processRates } from "../plan/probe";
import { planLine } from "../plan/report";
import { checkResources } from "../resources";
import { argsOrUsage, inspection, report } from "./common";

const usage = "<recipe.lft>... [--set key=value]... [--syntax-only] [--trust]";

export const checkCommand: CommandEntry = {
  name: "check",
  doc: "validate recipes and what they need on disk (--syntax-only: only the recipe) without running them or their plugins (--trust: import use packages)",
  usage,
  scope: "both",
  async run(argv, io, session) {
    const args = argsOrUsage("check", usage, argv, { positional: [1, Number.POSITIVE_INFINITY], sets: true, flags: ["--syntax-only", "--trust"] }, io);
    if (typeof args === "number") return args;
    const { registry, mode } = await inspection(session, args.flags.has("--trust"));
    let worst: number = ExitCode.ok;
    for (const path of args.positional) {
      const loaded = await loadRecipeFile(path, registry, io.cwd, args.sets, mode);
      if (loaded.isErr()) {
        report(io, loaded.error.diagnostics, loaded.error.sources);
        worst = Math.max(worst, exitCodeFor(loaded.error.diagnostics));
        continue;
      }
      report(io, loaded.value.checked.warnings, loaded.value.sources);
      if (!args.flags.has("--syntax-only")) {
        report(io, outputsInUse(loaded.value.recipe, loaded.value.checked.recipe), loaded.value.sources);
        const problems = checkResources(loaded.value.recipe, loaded.value.checked.recipe, registry);
        if (problems.length > 0) {
          report(io, problems, loaded.value.sources);
          worst = Math.max(worst, exitCodeFor(problems));
          continue;
        }
      }
      io.stdout(`${path}: ok\n`);
      if (!args.flags.has("--syntax-only")) {
        const line = checkPlanLine(loaded.value.checked.recipe, registry);
        if (line !== undefined) io.stdout(`  ${line}\n`);
      }
    }
    return worst;
  },
};

/**
 * The plan's one line for a recipe that trains (`lft plan` gives the table): undefined when the recipe
 * trains nothing or cannot be planned (a family without a memory formula, a hub model not downloaded);
 * `lft plan` says why.
 */
function checkPlanLine(recipe: ResolvedRecipe, registry: Registry): string | undefined {
  if (!recipe.actions.some((a) => a.action === "train")) return undefined;
  const plan = planRecipe(recipe, registry, deviceNamed("cpu")._unsafeUnwrap(), () => processRates());
  return plan.isOk() ? planLine(plan.value) : undefined;
}
