// Diagnostics: every lex, parse, plugin and semantic problem is one of these values, printed as
// `file:line:col: message` with the source line and a caret under the offending text.

/** Where a problem is: 1-based line and column, and how many characters to underline. */
export interface Span {
  readonly line: number;
  readonly col: number;
  /** 0-based offset into the source, for ordering and slicing. */
  readonly offset: number;
  readonly length: number;
  /** Set when the text came from somewhere other than the file being checked (a --set value). */
  readonly file?: string;
}

/**
 * What kind of problem, which decides the exit status: `syntax` and `semantic` are mistakes in the
 * recipe, `unavailable` names something no loaded plugin provides yet, `plugin` is a package that
 * failed to load, `io` a file that could not be read.
 */
export type DiagnosticKind = "syntax" | "semantic" | "unavailable" | "plugin" | "io";

export interface Diagnostic {
  readonly kind: DiagnosticKind;
  readonly severity: "error" | "warning";
  /** The file as the user named it (or `--set`, `<repl>`). */
  readonly file: string;
  /** Absent when the problem has no place in a source (a missing file). */
  readonly span?: Span;
  readonly message: string;
}

export function error(kind: DiagnosticKind, file: string, span: Span | undefined, message: string): Diagnostic {
  return span === undefined ? { kind, severity: "error", file, message } : { kind, severity: "error", file: span.file ?? file, span, message };
}

export function isError(d: Diagnostic): boolean {
  return d.severity === "error";
}

/** Stable order: by file, then position, then message; equal diagnostics are reported once. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique = list.filter((d) => {
    const key = `${d.file}\0${d.span?.offset ?? -1}\0${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      (a.span?.offset ?? -1) - (b.span?.offset ?? -1) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}

/**
 * ```
 * recipe.lft:12:3: method "lora": unknown option "rnak"; did you mean "rank"?
 *    12 |   rnak = 8
 *       |   ^^^^
 * ```
 * `sources` maps a file name to its text, so the line can be shown; without it only the first line is printed.
 */
export function formatDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, string>): string {
  const prefix = d.severity === "warning" ? "warning: " : "";
  if (d.span === undefined) return `${d.file}: ${prefix}${d.message}`;
  const { line, col, length } = d.span;
  const head = `${d.file}:${line}:${col}: ${prefix}${d.message}`;
  const text = sources.get(d.file);
  const sourceLine = text?.split(/\r?\n/)[line - 1];
  if (sourceLine === undefined) return head;
  const gutter = String(line).length + 1;
  // Tabs would misplace the caret: show them as single spaces on both lines.
  const shown = sourceLine.replace(/\t/g, " ");
  const width = Math.max(1, Math.min(length, shown.length - (col - 1)));
  const caret = `${" ".repeat(Math.max(0, col - 1))}${"^".repeat(width)}`;
  return `${head}\n${" ".repeat(gutter - String(line).length)}${line} | ${shown}\n${" ".repeat(gutter)} | ${caret}`;
}

export function formatDiagnostics(list: readonly Diagnostic[], sources: ReadonlyMap<string, string>): string {
  const sorted = sortDiagnostics(list);
  const errors = sorted.filter(isError).length;
  const warnings = sorted.length - errors;
  const body = sorted.map((d) => formatDiagnostic(d, sources)).join("\n");
  const counts = [errors > 0 ? `${errors} error${errors === 1 ? "" : "s"}` : "", warnings > 0 ? `${warnings} warning${warnings === 1 ? "" : "s"}` : ""]
    .filter((s) => s !== "")
    .join(", ");
  return sorted.length === 0 ? "" : `${body}\n${counts}\n`;
}
