// Diagnostics as lft check prints them (line:column, severity, message), listed under the recipe;
// clicking one selects its line in the recipe text.

import type { Diagnostic } from "./api.ts";
import { fill, h } from "./dom.ts";

function selectLine(editor: HTMLTextAreaElement, line: number): void {
  const lines = editor.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  editor.focus();
  editor.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
}

export function showDiagnostics(list: HTMLElement, diagnostics: readonly Diagnostic[], editor?: HTMLTextAreaElement): void {
  list.dataset.errors = String(diagnostics.filter((d) => d.severity === "error").length);
  if (diagnostics.length === 0) {
    fill(list, h("li", { class: "ok" }, "✓ no problems (lft check)"));
    return;
  }
  fill(
    list,
    ...diagnostics.map((d) => {
      const where = d.line === undefined ? "" : `${d.line}:${d.column ?? 1}`;
      const item = h(
        "li",
        { class: d.severity, testid: "diagnostic", title: d.text },
        where && h("code", { class: "where" }, where),
        h("b", {}, d.severity),
        " ",
        d.message,
        // lft check's own rendering: the recipe line with a caret under the spot.
        d.text && h("pre", { class: "diag-text" }, d.text),
      );
      if (d.line !== undefined && editor) item.addEventListener("click", () => selectLine(editor, d.line!));
      return item;
    }),
  );
}

/** A one-line message in the diagnostics list (a server or network failure). */
export function showProblem(list: HTMLElement, message: string): void {
  list.dataset.errors = "1";
  fill(list, h("li", { class: "error", testid: "diagnostic" }, h("b", {}, "error"), " ", message));
}
