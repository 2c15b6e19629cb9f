// `--fit SIZE`: the recipe changes that bring the peak under SIZE, each re-planned through the same
// pipeline as the recipe itself (the change is a list of --set overrides, so every number is a real
// plan and the user can paste the change into `lft run`). Ordered by least change: one edit before
// two, and within a kind the mildest (the largest batch, the longest cutoff) that fits.
import type { Result } from "neverthrow";
import type { Plan } from "./plan";

export interface FitSuggestion {
  /** What to change, in words. */
  readonly change: string;
  /** The same change as --set overrides. */
  readonly sets: readonly string[];
  readonly peakBytes: number;
  /** The step time after the change, when the recipe trains. */
  readonly stepSeconds?: number;
}

export interface FitAdvice {
  readonly limitBytes: number;
  /** The recipe fits as written. */
  readonly fits: boolean;
  readonly suggestions: readonly FitSuggestion[];
}

type Replan = (sets: readonly string[]) => Promise<Result<Plan, string>>;

interface Candidate {
  readonly change: string;
  readonly sets: readonly string[];
}

/** Single edits, each as a ladder from the mildest to the strongest (the first rung that fits is kept). */
function ladders(plan: Plan): Candidate[][] {
  const { input, train } = plan.settings;
  if (input.train === false || train === undefined) return [];
  const out: Candidate[][] = [];
  if (!input.recompute) out.push([{ change: "turn activation checkpointing on", sets: ["train.checkpointing=true"] }]);
  const batchRungs: Candidate[] = [];
  for (let b = Math.floor(train.batch / 2); b >= 1; b = b === 1 ? 0 : Math.max(1, Math.floor(b / 2))) {
    const accumulate = Math.ceil((train.batch * train.accumulate) / b);
    batchRungs.push({
      change: `batch ${b} with accumulate ${accumulate} (the same ${train.batch * train.accumulate} rows per step)`,
      sets: [`train.batch=${b}`, `train.accumulate=${accumulate}`],
    });
  }
  if (batchRungs.length > 0) out.push(batchRungs);
  const method = input.method?.name ?? "full";
  if (method !== "qlora") out.push([{ change: `method qlora instead of ${method} (4-bit frozen base, LoRA adapters)`, sets: ["method.name=qlora"] }]);
  const cutoffRungs: Candidate[] = [];
  for (let c = Math.floor(input.seqLen / 2); c >= 64; c = Math.floor(c / 2))
    cutoffRungs.push({ change: `cutoff ${c} instead of ${input.seqLen}`, sets: [`train.cutoff=${c}`] });
  if (cutoffRungs.length > 0) out.push(cutoffRungs);
  if (method === "full")
    for (const optimizer of ["galore", "badam"])
      if (input.optimizer?.name !== optimizer)
        out.push([{ change: `optimizer ${optimizer} instead of ${input.optimizer?.name ?? "adamw"}`, sets: [`train.optimizer=${optimizer}`] }]);
  return out;
}

/** The first rung of a ladder whose plan fits, with its plan; undefined when none does (or none applies). */
async function firstFit(rungs: readonly Candidate[], base: readonly string[], limit: number, replan: Replan): Promise<FitSuggestion | undefined> {
  for (const rung of rungs) {
    const sets = [...base, ...rung.sets];
    const planned = await replan(sets);
    // A change the recipe cannot take (an option the new method lacks) is no suggestion.
    if (planned.isErr()) continue;
    if (planned.value.memory.peakBytes <= limit)
      return {
        change: rung.change,
        sets,
        peakBytes: planned.value.memory.peakBytes,
        ...(planned.value.step === undefined ? {} : { stepSeconds: planned.value.step.seconds }),
      };
  }
  return undefined;
}

export async function fitAdvice(plan: Plan, limitBytes: number, replan: Replan): Promise<FitAdvice> {
  if (plan.memory.peakBytes <= limitBytes) return { limitBytes, fits: true, suggestions: [] };
  const singles = ladders(plan);
  const suggestions: FitSuggestion[] = [];
  for (const rungs of singles) {
    const found = await firstFit(rungs, [], limitBytes, replan);
    if (found !== undefined) suggestions.push(found);
  }
  if (suggestions.length > 0) return { limitBytes, fits: false, suggestions };
  // No single edit fits: pairs, each first edit's strongest rung with the second's ladder.
  for (let i = 0; i < singles.length; i++) {
    const first = singles[i]!.at(-1)!;
    for (const rungs of singles.slice(i + 1)) {
      const found = await firstFit(rungs, first.sets, limitBytes, replan);
      if (found !== undefined) suggestions.push({ ...found, change: `${first.change}, and ${found.change}` });
    }
  }
  return { limitBytes, fits: false, suggestions };
}
