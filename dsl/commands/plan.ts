// `lft plan <recipe.lft> [--device cpu|h100|…] [--fit 24GiB] [--set key=value]...`: what a run will need
// before it starts, from the recipe and the model's config.json alone (no weights loaded): peak memory
// by part (core's planMemory, each plugin's formula), the step and run time on this machine (measured
// GEMM/attention rates) or on a named GPU (published rates), and with --fit the changes that fit.
import { err } from "neverthrow";
import type { CommandEntry, CommandIO, Registry } from "../../core/index.ts";
import { type Diagnostic, error } from "../diagnostics";
import { ExitCode, exitCodeFor } from "../exit-codes";
import { loadRecipeFile } from "../pipeline";
import { type Device, deviceNamed } from "../plan/devices";
import { type FitAdvice, fitAdvice } from "../plan/fit";
import { type Plan, planRecipe } from "../plan/plan";
import { processRates } from "../plan/probe";
import { planTable } from "../plan/report";
import { formatBytes, formatSeconds, parseSize } from "../plan/size";
import type { PluginMode } from "../plugins";
import type { Block, Recipe } from "../recipe";
import { argsOrUsage, inspection, report } from "./common";

/** This machine's rates, cached in $LFT_HOME. */
const rates = () => processRates();

const usage = "<recipe.lft> [--device cpu|h100|h200|a100-80g|a100-40g|rtx4090|l40s|...] [--fit SIZE] [--set key=value]... [--trust]";

export const planCommand: CommandEntry = {
  name: "plan",
  doc: "predict a recipe's peak memory by part and its step time before running it (--device: a named GPU; --fit 24GiB: changes that fit)",
  usage,
  scope: "both",
  async run(argv, io, session) {
    const args = argsOrUsage("plan", usage, argv, { positional: [1, 1], sets: true, flags: ["--trust"], values: ["--device", "--fit"] }, io);
    if (typeof args === "number") return args;
    const device = deviceNamed(args.values.get("--device") ?? "cpu");
    if (device.isErr()) return usageError(io, `--device: ${device.error}`);
    const fitText = args.values.get("--fit");
    const parsedLimit = fitText === undefined ? undefined : parseSize(fitText);
    if (parsedLimit?.isErr()) return usageError(io, `--fit: ${parsedLimit.error}`);
    const limit = parsedLimit?._unsafeUnwrap();
    const { registry, mode } = await inspection(session, args.flags.has("--trust"));
    const path = args.positional[0]!;
    const plan = await planFile(path, registry, io, args.sets, mode, device.value);
    if (typeof plan === "number") return plan;
    io.stdout(planTable(plan, path));
    if (limit === undefined) {
      if (plan.memory.peakBytes > device.value.memoryBytes)
        io.stdout(
          `does not fit: the peak is over the device's ${formatBytes(device.value.memoryBytes)}; --fit ${formatBytes(device.value.memoryBytes).replace(" ", "")} suggests changes\n`,
        );
      return ExitCode.ok;
    }
    const advice = await fitAdvice(plan, limit, async (sets) => {
      const again = await loadRecipeFile(path, registry, io.cwd, [...args.sets, ...sets], mode);
      if (again.isErr()) return err("the changed recipe does not check");
      return planRecipe(again.value.checked.recipe, registry, device.value, rates);
    });
    io.stdout(fitReport(advice, plan));
    // Nothing fits: the recipe needs more than the device has, as when a plugin is missing.
    return advice.fits || advice.suggestions.length > 0 ? ExitCode.ok : ExitCode.notAvailable;
  },
};

function usageError(io: CommandIO, message: string): ExitCode {
  io.stderr(`lft plan: ${message}\nusage: lft plan ${usage}\n`);
  return ExitCode.usage;
}

/** Loads, checks and plans one recipe; problems are printed (located at the model block) and give the status. */
export async function planFile(
  path: string,
  registry: Registry,
  io: CommandIO,
  sets: readonly string[],
  mode: PluginMode,
  device: Device,
): Promise<Plan | ExitCode> {
  const loaded = await loadRecipeFile(path, registry, io.cwd, sets, mode);
  if (loaded.isErr()) {
    report(io, loaded.error.diagnostics, loaded.error.sources);
    return exitCodeFor(loaded.error.diagnostics);
  }
  report(io, loaded.value.checked.warnings, loaded.value.sources);
  const plan = planRecipe(loaded.value.checked.recipe, registry, device, rates);
  if (plan.isOk()) return plan.value;
  const problem = [planProblem(loaded.value.recipe, plan.error)];
  report(io, problem, loaded.value.sources);
  return exitCodeFor(problem);
}

/** A plan's problem as a diagnostic at the model block (the config it read) or the train block. */
export function planProblem(recipe: Recipe, message: string): Diagnostic {
  const blocks = recipe.statements.filter((s): s is Block => s.kind === "block");
  const model = blocks.find((b) => b.block === "model");
  const at = model?.source?.span ?? model?.span ?? blocks.find((b) => b.block === "train")?.span;
  return error("io", recipe.file, at, `plan: ${message}`);
}

function fitReport(advice: FitAdvice, plan: Plan): string {
  const limit = formatBytes(advice.limitBytes);
  if (advice.fits) return `fits in ${limit}: the peak is ${formatBytes(plan.memory.peakBytes)}\n`;
  const over = `the peak ${formatBytes(plan.memory.peakBytes)} is over ${limit}`;
  if (advice.suggestions.length === 0)
    return `${over}, and no change lft can suggest fits (checkpointing, a smaller batch, qlora, a shorter cutoff${plan.settings.input.method?.name === "full" || plan.settings.input.method === undefined ? ", galore/badam" : ""}, and pairs of them); a device with more memory, or a smaller model, is needed\n`;
  const lines = advice.suggestions.map((s, i) => {
    const time = s.stepSeconds === undefined ? "" : `, ~${formatSeconds(s.stepSeconds)}/step`;
    return `  ${i + 1}. ${s.change}: peak ${formatBytes(s.peakBytes)}${time}\n     ${s.sets.map((x) => `--set ${x}`).join(" ")}`;
  });
  return `${over}; changes that fit, least change first:\n${lines.join("\n")}\n`;
}
