// The time model against real steps: a recipe's predicted step time (`lft plan`'s model, in process)
// and its measured one (two CLI runs of the same recipe, 1 and `1 + steps` steps, so start-up, model
// load, data preparation and the first step's warm-up cancel out). Shared by test/dsl/plan-time.test.ts
// and bench/plan-time.ts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { lftPlugin } from "../../dsl/commands/index.ts";
import { loadRecipeFile } from "../../dsl/pipeline.ts";
import { deviceNamed } from "../../dsl/plan/devices.ts";
import { planRecipe } from "../../dsl/plan/plan.ts";
import { machineRates } from "../../dsl/plan/probe.ts";
import { openSession } from "../../dsl/session.ts";

export const repoRoot = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

export interface TimeCase {
  readonly name: string;
  /** Method line and train-block options; the model is stories260K, the data wiki.train.txt packed. */
  readonly method: string;
  readonly train: string;
}

function recipeText(c: TimeCase, steps: number, out: string): string {
  return `model llama "${repoRoot}/examples/models/stories260K" { dtype = f32 }
dataset text "${repoRoot}/examples/data/wiki.train.txt"
${c.method}
train pt for ${steps} steps { ${c.train}, pack = true, lr = 1e-4, seed = 1, log_every = 1000, save_every = 100000, output = "${out}" }
`;
}

/** Seconds of the run's training as its summary line reports it (`... in 5.6s, ...`). */
function runSeconds(dir: string, c: TimeCase, steps: number): number {
  const file = join(dir, `${c.name}-${steps}.lft`);
  writeFileSync(file, recipeText(c, steps, join(dir, `${c.name}-${steps}`)));
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/dsl/cli.ts`, file], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", LFT_HOME: join(dir, "home") },
  });
  const text = run.stdout.toString() + run.stderr.toString();
  const m = /steps? \(.*\) in ([\d.]+)s,/.exec(text);
  if (run.exitCode !== 0 || m === null) throw new Error(`the run of ${c.name} failed (exit ${run.exitCode}):\n${text}`);
  return Number(m[1]);
}

export function measuredStepSeconds(dir: string, c: TimeCase, steps = 3): number {
  return (runSeconds(dir, c, 1 + steps) - runSeconds(dir, c, 1)) / steps;
}

export async function predictedStepSeconds(dir: string, c: TimeCase): Promise<number> {
  const file = join(dir, `${c.name}-plan.lft`);
  writeFileSync(file, recipeText(c, 10, join(dir, `${c.name}-plan`)));
  const { session } = await openSession({ mode: "cli", io: { cwd: dir, stdout: () => {}, stderr: () => {} } as never, core: lftPlugin, projectPlugins: false });
  const loaded = await loadRecipeFile(file, session.registry, dir);
  if (loaded.isErr()) throw new Error(loaded.error.diagnostics.map((d) => d.message).join("\n"));
  const rates = machineRates(join(dir, "home", "plan-probe.json"));
  const plan = planRecipe(loaded.value.checked.recipe, session.registry, deviceNamed("cpu")._unsafeUnwrap(), () => rates);
  if (plan.isErr() || plan.value.step === undefined) throw new Error(plan.isErr() ? plan.error : "no step time");
  return plan.value.step.seconds;
}
