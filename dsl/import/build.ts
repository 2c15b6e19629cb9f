// Small constructors for Recipe nodes made by code rather than parsed (lft import, the REPL's
// `:recipe`). Positions are zero: such nodes are printed, then parsed again before anything checks them.

import type { Span } from "../diagnostics";
import type { Block, BlockKind, Comments, Duration, Entry, Statement, Value } from "../recipe";

const at: Span = { line: 1, col: 1, offset: 0, length: 0 };
const quiet: Comments = { leading: [], blankBefore: false };

/** A string value; quotes, backslashes and `${` are escaped so the text comes back verbatim. */
export function str(text: string): Value & { kind: "string" } {
  const raw = text
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\$\{/g, "\\${")
    .replace(/\n/g, "\\n")
    .replace(/\t/g, "\\t");
  return { kind: "string", raw, span: at };
}

/** A number as a person would write it: 1e-5 rather than 0.00001, 3 rather than 3.0. */
export function numberText(n: number): string {
  if (n !== 0 && Math.abs(n) < 1e-3) return n.toExponential();
  return String(n);
}

export function num(n: number, unit?: "%" | "epochs" | "steps" | "tokens"): Value {
  // 0.1 as a percentage prints 10%, and must survive the round trip as exactly 0.1.
  const shown = unit === "%" ? Number((n * 100).toPrecision(12)) : n;
  return unit === undefined
    ? { kind: "number", value: n, text: numberText(n), span: at }
    : { kind: "number", value: shown, text: numberText(shown), unit, span: at };
}

export function word(name: string): Value {
  return { kind: "name", name, span: at };
}

export function bool(value: boolean): Value {
  return { kind: "bool", value, span: at };
}

export function list(items: readonly Value[]): Value {
  return { kind: "list", items, span: at };
}

export function entry(key: string, value: Value): Entry {
  return { key, keySpan: at, value, comments: quiet };
}

export interface BlockParts {
  readonly name?: string;
  readonly source?: string;
  readonly duration?: { amount: number; unit: "epochs" | "steps" };
  readonly entries?: readonly Entry[];
  readonly leading?: readonly string[];
  readonly blankBefore?: boolean;
}

export function block(kind: BlockKind, parts: BlockParts = {}): Block {
  const made: { -readonly [K in keyof Block]?: Block[K] } = {
    kind: "block",
    block: kind,
    span: at,
    comments: { leading: parts.leading ?? [], blankBefore: parts.blankBefore ?? false },
  };
  if (parts.name !== undefined) made.name = { text: parts.name, span: at };
  if (parts.source !== undefined) made.source = str(parts.source);
  if (parts.duration !== undefined) {
    const duration: Duration = { amount: parts.duration.amount, text: numberText(parts.duration.amount), unit: parts.duration.unit, span: at };
    made.duration = duration;
  }
  if (parts.entries !== undefined && parts.entries.length > 0) made.body = { entries: parts.entries, closing: [] };
  return made as Block;
}

export function useStatement(pkg: string): Statement {
  return { kind: "use", pkg: str(pkg), span: at, comments: quiet };
}

export function letStatement(name: string, value: Value): Statement {
  return { kind: "let", name: { text: name, span: at }, value, span: at, comments: quiet };
}
