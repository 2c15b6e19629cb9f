// Typed access to a row's columns for the format plugins: each getter says what it expected and what
// it found, so a bad row's reason reads like "column "output" must be a string, found number 3".

import { err, ok, type Result } from "neverthrow";
import { describe, type RowProblem, type SkipReason } from "../../../core/index.ts";

export const problem = (reason: SkipReason, detail: string): RowProblem => ({ reason, detail });

export type Row = Readonly<Record<string, unknown>>;

export function asRow(value: unknown): Result<Row, RowProblem> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? ok(value as Row)
    : err(problem("not-an-object", `a row must be an object, found ${describe(value)}`));
}

/** A required string column. */
export function requireString(row: Row, column: string): Result<string, RowProblem> {
  const v = row[column];
  if (v === undefined) return err(problem("missing-column", `missing column "${column}"`));
  if (typeof v !== "string") return err(problem("wrong-type", `column "${column}" must be a string, found ${describe(v)}`));
  return ok(v);
}

/** An optional string column: absent or null gives "". */
export function optionalString(row: Row, column: string | undefined): Result<string, RowProblem> {
  if (column === undefined) return ok("");
  const v = row[column];
  if (v === undefined || v === null) return ok("");
  if (typeof v !== "string") return err(problem("wrong-type", `column "${column}" must be a string, found ${describe(v)}`));
  return ok(v);
}

/** The tools column as JSON text: a string is kept, a list or object is serialised. */
export function toolsText(row: Row, column: string | undefined): Result<string, RowProblem> {
  if (column === undefined) return ok("");
  const v = row[column];
  if (v === undefined || v === null) return ok("");
  if (typeof v === "string") return ok(v);
  if (typeof v === "object") return ok(JSON.stringify(v));
  return err(problem("wrong-type", `column "${column}" must be JSON text or a list of tools, found ${describe(v)}`));
}
