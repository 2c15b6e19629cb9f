// `POST /api/plan {recipe, device?}`: the plan's one line for recipe text in hand (as `lft check`
// prints it), with the peak and its parts as numbers, for the Train page. A recipe that does not
// check answers 422 with its diagnostics; one that checks but cannot be planned, 422 with the reason.
import { join } from "node:path";
import type { Registry } from "../../../core/index.ts";
import { deviceNamed } from "../../plan/devices";
import { planRecipe } from "../../plan/plan";
import { processRates } from "../../plan/probe";
import { planLine } from "../../plan/report";
import { type BoardDiagnostic, boardFile, checkText } from "./check";
import { HttpError } from "./http";

export interface BoardPlan {
  readonly line: string;
  readonly peakBytes: number;
  readonly parts: readonly { readonly name: string; readonly bytes: number; readonly detail: string }[];
  /** Absent when the recipe trains nothing or its stage samples its own batches. */
  readonly stepSeconds?: number;
}

export type BoardPlanAnswer = { readonly plan: BoardPlan } | { readonly error: string; readonly diagnostics: readonly BoardDiagnostic[] };

/** `home`: the board's LFT_HOME, where this machine's measured rates are cached. */
export async function planText(text: string, registry: Registry, cwd: string, home: string, deviceName = "cpu"): Promise<BoardPlanAnswer> {
  const device = deviceNamed(deviceName);
  if (device.isErr()) throw new HttpError(400, "invalid_request", `device: ${device.error}`);
  const checked = await checkText(text, registry, cwd, boardFile);
  if (checked.ok === undefined) return { error: "the recipe does not check", diagnostics: checked.diagnostics };
  const plan = planRecipe(checked.ok.checked.recipe, registry, device.value, () => processRates(join(home, "plan-probe.json")));
  if (plan.isErr()) return { error: `plan: ${plan.error}`, diagnostics: checked.diagnostics };
  const p = plan.value;
  return {
    plan: {
      line: planLine(p),
      peakBytes: p.memory.peakBytes,
      parts: p.memory.parts.map((x) => ({ name: x.name, bytes: x.bytes, detail: x.detail })),
      ...(p.step === undefined ? {} : { stepSeconds: p.step.seconds }),
    },
  };
}
