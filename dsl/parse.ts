// Source text → Recipe, with every lex and parse error as a diagnostic. Statements are parsed one by
// one (Chevrotain recovers inside each), so one run reports every broken statement and still
// returns the statements that were whole.

import { type CstNode, createTokenInstance, type IRecognitionException, type IToken } from "chevrotain";
import { err, ok, type Result } from "neverthrow";
import { suggest } from "../core/index.ts";
import { type Diagnostic, error, type Span, sortDiagnostics } from "./diagnostics";
import {
  Equals,
  For,
  Identifier,
  Keyword,
  LBrace,
  LBracket,
  RBrace,
  RBracket,
  recipeLexer,
  StringLiteral,
  statementKeywords,
  UnterminatedString,
} from "./lexer";
import { recipeParser } from "./parser";
import type { Recipe, Value } from "./recipe";
import { tokenSpan, toRecipe } from "./visitor";

export interface Parsed {
  /** The whole statements; complete only when `diagnostics` is empty. */
  readonly recipe: Recipe;
  readonly diagnostics: readonly Diagnostic[];
}

/** Lists inside lists (and braces) deeper than this are refused before parsing: the parser recurses per level. */
export const maxNesting = 64;
/** The largest recipe text read: far above any real recipe, far below what exhausts memory. */
export const maxRecipeBytes = 64 * 1024 * 1024;

export function parseSource(source: string, file: string): Parsed {
  const diagnostics: Diagnostic[] = [];
  if (source.length > maxRecipeBytes) {
    const mib = (source.length / 2 ** 20).toFixed(1);
    const message = `the recipe is ${mib} MiB; recipes are at most ${maxRecipeBytes / 2 ** 20} MiB (keep long texts such as data in files the recipe names)`;
    return { recipe: { file, statements: [], closing: [] }, diagnostics: [error("syntax", file, { line: 1, col: 1, offset: 0, length: 1 }, message)] };
  }
  const lexed = recipeLexer.tokenize(source);
  for (const e of lexed.errors) {
    const bad = source.slice(e.offset, e.offset + e.length);
    const span: Span = { line: e.line ?? 1, col: e.column ?? 1, offset: e.offset, length: e.length };
    diagnostics.push(error("syntax", file, span, `unexpected ${bad.length === 1 ? "character" : "characters"} ${JSON.stringify(bad)}`));
  }
  const tokens = lexed.tokens.map((t) => (t.tokenType === UnterminatedString ? closeString(t, file, diagnostics) : t));

  const statements: CstNode[] = [];
  // Chevrotain signals recognition errors with exceptions; their stack traces are never shown and
  // cost more than the parse itself on broken input.
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (const chunk of splitStatements(tokens)) {
      const tooDeep = deeperThan(chunk, maxNesting);
      if (tooDeep !== undefined) {
        const message = `nesting deeper than ${maxNesting} levels of [ ] and { }: a recipe value is a flat list (targets = [q_proj, v_proj])`;
        diagnostics.push(error("syntax", file, tokenSpan(tooDeep), message));
        continue;
      }
      recipeParser.input = chunk;
      const node = recipeParser.statement();
      statements.push(node);
      const after = afterSpan(chunk.at(-1)!);
      for (const e of recipeParser.errors) diagnostics.push(parseError(e, after, file));
    }
  } finally {
    Error.stackTraceLimit = stackLimit;
  }
  const errorOffsets = diagnostics.map((d) => d.span?.offset ?? -1);
  const recipe = toRecipe({ name: "recipe", children: { statement: statements } }, lexed.groups.comments ?? [], file, errorOffsets);
  return { recipe, diagnostics: sortDiagnostics(diagnostics) };
}

export function parseRecipe(source: string, file: string): Result<Recipe, Diagnostic[]> {
  const { recipe, diagnostics } = parseSource(source, file);
  return diagnostics.length > 0 ? err([...diagnostics]) : ok(recipe);
}

/**
 * One value on its own, as `--set key=value` and the REPL write them: `16`, `5%`, `[q_proj, v_proj]`.
 * Parsed as the body of a one-entry block, so it is exactly the recipe's value grammar.
 */
export function parseValue(source: string, file: string): Result<Value, Diagnostic[]> {
  const prefix = "method m { v = ";
  const parsed = parseSource(`${prefix}${source}\n}`, file);
  const shift = (d: Diagnostic): Diagnostic =>
    d.span === undefined ? d : { ...d, span: { ...d.span, col: Math.max(1, d.span.col - prefix.length), offset: Math.max(0, d.span.offset - prefix.length) } };
  const [statement] = parsed.recipe.statements;
  const entries = statement?.kind === "block" ? (statement.body?.entries ?? []) : [];
  if (parsed.diagnostics.length > 0 || entries.length !== 1) {
    const problems =
      parsed.diagnostics.length > 0 ? parsed.diagnostics.map(shift) : [error("syntax", file, undefined, `expected one value, found ${JSON.stringify(source)}`)];
    return err(problems);
  }
  return ok(unshift(entries[0]!.value, prefix.length));
}

function unshift(value: Value, by: number): Value {
  const span = { ...value.span, col: value.span.col - by, offset: value.span.offset - by };
  return value.kind === "list" ? { ...value, span, items: value.items.map((v) => unshift(v, by)) } : { ...value, span };
}

/** Reports the missing quote and lets parsing go on as if it were there. */
function closeString(token: IToken, file: string, diagnostics: Diagnostic[]): IToken {
  diagnostics.push(error("syntax", file, tokenSpan(token), "string has no closing quote (strings end on the line they start)"));
  const fixed = createTokenInstance(
    StringLiteral,
    `${token.image}"`,
    token.startOffset,
    token.endOffset ?? token.startOffset,
    token.startLine ?? 1,
    token.endLine ?? 1,
    token.startColumn ?? 1,
    token.endColumn ?? 1,
  );
  return fixed;
}

/**
 * Cuts the token stream into statements, each parsed on its own so a mistake stays in its
 * statement: a cut before every statement keyword outside braces, before one that begins a line
 * inside braces without being an option key (a block whose `}` is missing), and before a word that
 * begins a line and looks like a misspelt keyword.
 */
function splitStatements(tokens: readonly IToken[]): IToken[][] {
  const chunks: IToken[][] = [];
  let current: IToken[] = [];
  let depth = 0;
  tokens.forEach((token, i) => {
    const type = token.tokenType;
    const startsLine = i === 0 || token.startLine !== tokens[i - 1]!.endLine;
    // A misspelt keyword at the start of a line starts a statement too, so it gets its own error.
    const keyword = isStatementKeyword(type) || (type === Identifier && startsLine && depth === 0 && suggest(token.image, statementKeywords).length > 0);
    // A keyword right after "=" is a value (`split = eval`), never a new statement.
    const isValue = tokens[i - 1]?.tokenType === Equals;
    const cut = keyword && !isValue && current.length > 0 && (depth === 0 || (startsLine && tokens[i + 1]?.tokenType !== Equals));
    if (cut) {
      chunks.push(current);
      current = [];
      depth = 0;
    }
    if (type === LBrace || type === LBracket) depth++;
    else if (type === RBrace || type === RBracket) depth = Math.max(0, depth - 1);
    current.push(token);
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The first opening bracket past `limit` levels, if any. */
function deeperThan(tokens: readonly IToken[], limit: number): IToken | undefined {
  let depth = 0;
  for (const token of tokens) {
    if (token.tokenType === LBrace || token.tokenType === LBracket) {
      depth++;
      if (depth > limit) return token;
    } else if (token.tokenType === RBrace || token.tokenType === RBracket) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

function isStatementKeyword(type: IToken["tokenType"]): boolean {
  // "for" is a keyword but starts no statement.
  return (type.CATEGORIES ?? []).includes(Keyword) && type !== For;
}

/** Just after a token: where "expected ... found the end of the input" points. */
function afterSpan(token: IToken): Span {
  const line = token.endLine ?? token.startLine ?? 1;
  const col = (token.endColumn ?? token.startColumn ?? 0) + 1;
  return { line, col, offset: (token.endOffset ?? token.startOffset) + 1, length: 1 };
}

function parseError(e: IRecognitionException, end: Span, file: string): Diagnostic {
  const token = e.token;
  // Chevrotain's EOF token has no position: point just past the statement's last token.
  if (Number.isNaN(token.startOffset) || token.startLine === undefined || Number.isNaN(token.startLine)) {
    return error("syntax", file, end, e.message);
  }
  return error("syntax", file, tokenSpan(token), e.message);
}
