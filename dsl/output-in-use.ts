// `lft check`'s note that a train action's output folder is locked by a run that is alive now: the
// recipe is fine, but `lft run` would be refused until that run ends (core/run/output-lock.ts).

import { describeHolder, outputLockHolder, type ResolvedRecipe } from "../core/index.ts";
import { trainOutput } from "../plugins/runner/index.ts";
import type { Diagnostic, Span } from "./diagnostics";
import type { Block, Entry, Recipe } from "./recipe";

export function outputsInUse(recipe: Recipe, resolved: ResolvedRecipe): Diagnostic[] {
  const blocks = recipe.statements.filter((s): s is Block => s.kind === "block" && ["train", "eval", "predict", "export", "chat"].includes(s.block));
  const out: Diagnostic[] = [];
  resolved.actions.forEach((action, i) => {
    if (action.action !== "train") return;
    const holder = outputLockHolder(trainOutput(resolved, action));
    if (holder === undefined) return;
    const block = blocks[i];
    const span: Span | undefined = block?.body?.entries.find((e: Entry) => e.key === "output")?.value.span ?? block?.span;
    const message = `output ${trainOutput(resolved, action)} is in use by ${describeHolder(holder)}; lft run will refuse it until that run ends`;
    out.push(
      span === undefined
        ? { kind: "io", severity: "warning", file: recipe.file, message }
        : { kind: "io", severity: "warning", file: span.file ?? recipe.file, span, message },
    );
  });
  return out;
}
