// How a plan is shown: the table of parts (`lft plan`), and the one line `lft check` and the board print.

import type { Plan } from "./plan";
import { formatBytes, formatSeconds } from "./size";

/** Where the step time holds: "on this machine" or "on an NVIDIA H100 SXM 80GB". */
function onDevice(plan: Plan): string {
  return plan.device.kind === "cpu" ? "on this machine" : `on an ${plan.device.title}`;
}

/** `plan: peak 1.2 GiB (weights 0.5, activations 0.4, …), ~3.1 s/step on this machine`. */
export function planLine(plan: Plan): string {
  const peak = plan.memory.peakBytes;
  const gib = peak >= 2 ** 30;
  const unit = gib ? 2 ** 30 : 2 ** 20;
  const parts = [...plan.memory.parts]
    .filter((p) => p.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 4)
    .map((p) => `${p.name} ${(p.bytes / unit).toFixed(gib ? 2 : 1)}`);
  const more = plan.memory.parts.filter((p) => p.bytes > 0).length > 4 ? ", …" : "";
  const time = plan.step === undefined ? "" : `, ~${formatSeconds(plan.step.seconds)}/step ${onDevice(plan)}`;
  return `plan: peak ${formatBytes(peak)} (${gib ? "GiB" : "MiB"}: ${parts.join(", ")}${more})${time}`;
}

/** The full report of `lft plan`. */
export function planTable(plan: Plan, recipeFile: string): string {
  const rows = plan.memory.parts.map((p) => [p.name, formatBytes(p.bytes), p.detail]);
  const widths = [Math.max(4, ...rows.map((r) => r[0]!.length)), Math.max(4, ...rows.map((r) => r[1]!.length))];
  const line = (r: readonly string[]) => `  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padStart(widths[1]!)}  ${r[2] ?? ""}`.trimEnd();
  const out: string[] = [];
  const { input } = plan.settings;
  const what =
    input.train === false
      ? "generation only"
      : `train ${input.stage?.name ?? "sft"}, method ${input.method?.name ?? "full"}, optimizer ${input.optimizer?.name ?? "adamw"}`;
  out.push(
    `${recipeFile}: ${input.family} from ${plan.settings.configFile} (${input.dtype}); ${what}; batch ${input.batch} × ${input.seqLen} tokens${input.recompute ? ", checkpointing on" : ""}`,
  );
  out.push(`memory at the peak (${plan.memory.phase}):`);
  out.push(line(["part", "size", "how"]));
  for (const r of rows) out.push(line(r));
  out.push(
    line([
      "peak",
      formatBytes(plan.memory.peakBytes),
      `${plan.device.kind === "cpu" ? "this machine has" : `the ${plan.device.title} has`} ${formatBytes(plan.device.memoryBytes)}`,
    ]),
  );
  if (plan.step !== undefined) {
    const run = plan.runSeconds === undefined ? "" : `; ${plan.settings.steps} steps ≈ ${formatSeconds(plan.runSeconds)}`;
    out.push(`time: ~${formatSeconds(plan.step.seconds)} per step ${onDevice(plan)}${run}`);
    out.push(`  ${plan.step.basis}`);
  } else if (plan.settings.untimed !== undefined) out.push(`time: not predicted: ${plan.settings.untimed}`);
  return `${out.join("\n")}\n`;
}
