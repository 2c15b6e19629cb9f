// Exit statuses of `lft`: the table is part of the command contract (core/command/exit-codes.ts);
// the DSL adds the status for a set of diagnostics.

import { ExitCode } from "../core/index.ts";
import type { Diagnostic } from "./diagnostics";

export { ExitCode, exitCodeDocs } from "../core/index.ts";

/**
 * The status for a set of diagnostics. A failed plugin explains the names it would have provided,
 * so it comes first; then mistakes in the recipe; "not available" only when nothing else is wrong.
 */
export function exitCodeFor(diagnostics: readonly Diagnostic[]): ExitCode {
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length === 0) return ExitCode.ok;
  if (errors.some((d) => d.kind === "plugin")) return ExitCode.pluginError;
  if (errors.some((d) => d.kind === "io")) return ExitCode.ioError;
  if (errors.some((d) => d.kind === "syntax" || d.kind === "semantic")) return ExitCode.recipeError;
  return ExitCode.notAvailable;
}
