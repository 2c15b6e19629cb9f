// `lft check` for recipe text in hand: the same pipeline (parse, `use` declarations, semantic check,
// outputs in use, what would fail on disk), with the diagnostics as JSON the board shows inline.
// Relative paths resolve against the board's working folder, as in the REPL.

import type { Registry } from "../../../core/index.ts";
import type { Checked } from "../../check";
import { type Diagnostic, formatDiagnostic, sortDiagnostics } from "../../diagnostics";
import { outputsInUse } from "../../output-in-use";
import { checkSource } from "../../pipeline";
import type { Recipe } from "../../recipe";
import { checkResources } from "../../resources";

export interface BoardDiagnostic {
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  readonly length?: number;
  /** The file the problem is in (the recipe, or `--set`). */
  readonly source: string;
  /** The diagnostic as `lft check` prints it: `file:line:col: message`, the line and a caret. */
  readonly text: string;
}

export function toBoardDiagnostics(list: readonly Diagnostic[], file: string, text: string): BoardDiagnostic[] {
  const sources = new Map([[file, text]]);
  return sortDiagnostics(list).map((d) => ({
    severity: d.severity,
    message: d.message,
    ...(d.span === undefined ? {} : { line: d.span.line, column: d.span.col, length: d.span.length }),
    source: d.file,
    text: formatDiagnostic(d, sources),
  }));
}

export interface CheckedText {
  readonly diagnostics: BoardDiagnostic[];
  /** Set when the recipe has no errors: what a run would get. */
  readonly ok?: { readonly recipe: Recipe; readonly checked: Checked };
}

/** The file name diagnostics use for recipes from the board. */
export const boardFile = "recipe.lft";

export async function checkText(text: string, registry: Registry, cwd: string, file = boardFile): Promise<CheckedText> {
  const result = await checkSource(text, file, registry, cwd, [], "declare");
  if (result.isErr()) return { diagnostics: toBoardDiagnostics(result.error, file, text) };
  const { recipe, checked } = result.value;
  const problems = [...checked.warnings, ...outputsInUse(recipe, checked.recipe), ...checkResources(recipe, checked.recipe, registry)];
  const diagnostics = toBoardDiagnostics(problems, file, text);
  return diagnostics.some((d) => d.severity === "error") ? { diagnostics } : { diagnostics, ok: { recipe, checked } };
}
