// One plan of a checked recipe: the memory planner's peak by part (core's planMemory, each plugin's
// own formula) and the time model's step time on a device, with the run time when the train block
// gives its length in steps.
import { err, ok, type Result } from "neverthrow";
import { type MemoryPlan, planMemory, type Registry, type ResolvedRecipe } from "../../core/index.ts";
import type { Device } from "./devices";
import { stepFlops } from "./flops";
import type { MachineRates } from "./probe";
import { type PlanSettings, planSettings } from "./settings";
import { type StepTime, stepTime } from "./time";

export interface Plan {
  readonly settings: PlanSettings;
  readonly memory: MemoryPlan;
  readonly device: Device;
  /** Absent when the recipe trains nothing. */
  readonly step?: StepTime;
  /** step × the train block's steps, when it counts steps. */
  readonly runSeconds?: number;
}

export function planRecipe(recipe: ResolvedRecipe, registry: Registry, device: Device, rates: () => MachineRates): Result<Plan, string> {
  const settings = planSettings(recipe, registry);
  if (settings.isErr()) return err(settings.error);
  const memory = planMemory(settings.value.input, registry);
  if (memory.isErr()) return err(memory.error.message);
  const { train, model } = settings.value;
  if (train === undefined || settings.value.untimed !== undefined) return ok({ settings: settings.value, memory: memory.value, device });
  const step = stepTime(stepFlops(model, train), model, train, memory.value.counts.trainable, device, rates, settings.value.bf16);
  return ok({
    settings: settings.value,
    memory: memory.value,
    device,
    step,
    ...(settings.value.steps === undefined ? {} : { runSeconds: step.seconds * settings.value.steps }),
  });
}
