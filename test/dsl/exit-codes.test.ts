// Exit statuses: every one documented exactly once, and the precedence when problems mix.

import { expect, test } from "bun:test";
import { type Diagnostic, type DiagnosticKind, error } from "../../dsl/diagnostics.ts";
import { ExitCode, exitCodeDocs, exitCodeFor } from "../../dsl/exit-codes.ts";

test("every exit code has one line of documentation, and the codes are distinct", () => {
  const codes = Object.values(ExitCode);
  expect(new Set(codes).size).toBe(codes.length);
  expect(exitCodeDocs.map(([code]) => code).sort((a, b) => a - b)).toEqual([...codes].sort((a, b) => a - b));
});

const d = (kind: DiagnosticKind): Diagnostic => error(kind, "r.lft", undefined, kind);

test("a failed plugin explains the rest; recipe mistakes come before what is not available", () => {
  expect(exitCodeFor([])).toBe(ExitCode.ok);
  expect(exitCodeFor([{ ...d("semantic"), severity: "warning" }])).toBe(ExitCode.ok);
  expect(exitCodeFor([d("unavailable")])).toBe(ExitCode.notAvailable);
  expect(exitCodeFor([d("unavailable"), d("semantic")])).toBe(ExitCode.recipeError);
  expect(exitCodeFor([d("syntax"), d("io")])).toBe(ExitCode.ioError);
  expect(exitCodeFor([d("syntax"), d("plugin"), d("io")])).toBe(ExitCode.pluginError);
});
