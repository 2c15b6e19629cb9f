// The tokens of the .lft recipe language, declared once (Chevrotain's own style). Keywords and units
// are identifiers the lexer recognises by name; whitespace and newlines carry no meaning, and
// comments are kept aside (group "comments") so `lft fmt` can put them back.

import { createToken, Lexer, type TokenType } from "chevrotain";

const identifierPattern = /[A-Za-z_][A-Za-z0-9_-]*/;

/** Anything usable as an option key: identifiers and keywords alike (`split = eval` reads fine). */
export const Name = createToken({ name: "Name", pattern: Lexer.NA, label: "a name" });
export const Identifier = createToken({ name: "Identifier", pattern: identifierPattern, categories: [Name], label: "a name" });

/** Statement keywords: these can never be a bare name at statement level, only as option keys. */
export const Keyword = createToken({ name: "Keyword", pattern: Lexer.NA });
const keyword = (word: string): TokenType =>
  createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    pattern: new RegExp(`${word}(?![A-Za-z0-9_-])`),
    longer_alt: Identifier,
    categories: [Keyword, Name],
    label: `"${word}"`,
  });

export const Use = keyword("use");
export const Let = keyword("let");
export const Model = keyword("model");
export const Dataset = keyword("dataset");
export const Method = keyword("method");
export const Train = keyword("train");
export const Eval = keyword("eval");
export const Predict = keyword("predict");
export const Export = keyword("export");
export const Chat = keyword("chat");
export const For = keyword("for");

/** true/false are values, never keys or names. */
export const True = createToken({ name: "True", pattern: /true(?![A-Za-z0-9_-])/, longer_alt: Identifier, label: "true" });
export const False = createToken({ name: "False", pattern: /false(?![A-Za-z0-9_-])/, longer_alt: Identifier, label: "false" });

/**
 * Unit words after a number (`3 epochs`, `100 steps`, `2048 tokens`). They stay ordinary names
 * everywhere else (category Identifier), so a stage or option called `steps` still works.
 */
export const Unit = createToken({ name: "Unit", pattern: Lexer.NA });
const unit = (name: string, pattern: RegExp, label: string): TokenType =>
  createToken({ name, pattern, longer_alt: Identifier, categories: [Unit, Identifier, Name], label });
export const Epochs = unit("Epochs", /epochs?(?![A-Za-z0-9_-])/, '"epochs"');
export const Steps = unit("Steps", /steps?(?![A-Za-z0-9_-])/, '"steps"');
export const Tokens = unit("Tokens", /tokens?(?![A-Za-z0-9_-])/, '"tokens"');

/** Characters that run on inside a string: anything but a quote, a backslash or a line break. */
const plainRun = /[^"\\\n\r]*/y;

/**
 * Where the string starting at `offset` ends: after its closing quote, or (unterminated) before the
 * line break or the end. A scan by hand, with one sticky regex per run of plain characters: a regex
 * for the whole string overflows the regex engine's backtracking stack or crawls on a few megabytes.
 */
function scanString(text: string, offset: number): { end: number; closed: boolean } | undefined {
  if (text.charCodeAt(offset) !== 34) return undefined;
  let i = offset + 1;
  for (;;) {
    plainRun.lastIndex = i;
    plainRun.exec(text);
    i = plainRun.lastIndex;
    const c = text[i];
    if (c === '"') return { end: i + 1, closed: true };
    // `\.`: a backslash escapes any character but a line terminator.
    if (c === "\\" && i + 1 < text.length && !"\n\r\u2028\u2029".includes(text[i + 1]!)) {
      i += 2;
      continue;
    }
    return { end: i, closed: false };
  }
}

const matchString =
  (closed: boolean) =>
  (text: string, offset: number): RegExpExecArray | null => {
    const found = scanString(text, offset);
    return found === undefined || found.closed !== closed ? null : ([text.slice(offset, found.end)] as unknown as RegExpExecArray);
  };

/** `"..."` with JSON escapes; `${name}` inside is interpolated by the checker. One line only. */
export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: { exec: matchString(true) },
  start_chars_hint: ['"'],
  line_breaks: false,
  label: "a string",
});
/** A string missing its closing quote: lexed as a token so the parser can report it precisely. */
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: { exec: matchString(false) },
  start_chars_hint: ['"'],
  line_breaks: false,
  label: "an unterminated string",
});
/** `${name}` as a whole value: the bound value keeps its type (a number stays a number). */
export const Reference = createToken({ name: "Reference", pattern: /\$\{[A-Za-z_][A-Za-z0-9_-]*\}/, label: "a ${reference}" });
/** Decimal or scientific, optional sign, `_` as a digit separator (`1e-4`, `-0.5`, `20_000`). */
export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /-?\d(?:_?\d)*(?:\.\d(?:_?\d)*)?(?:[eE][+-]?\d+)?(?![A-Za-z_])/,
  label: "a number",
});
export const Percent = createToken({ name: "Percent", pattern: /%/, label: '"%"' });
export const LBrace = createToken({ name: "LBrace", pattern: /\{/, label: '"{"' });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/, label: '"}"' });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: '"["' });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: '"]"' });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: '","' });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: '"="' });
export const Comment = createToken({ name: "Comment", pattern: /#[^\n\r]*/, group: "comments" });
export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f]+/, group: Lexer.SKIPPED });

/** Every token, in matching order: keywords and units before the identifier they would otherwise be. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  Name,
  Keyword,
  Unit,
  Use,
  Let,
  Model,
  Dataset,
  Method,
  Train,
  Eval,
  Predict,
  Export,
  Chat,
  For,
  True,
  False,
  Epochs,
  Steps,
  Tokens,
  Identifier,
  StringLiteral,
  UnterminatedString,
  Reference,
  NumberLiteral,
  Percent,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Equals,
];

/** Words that begin a statement, in the order help and completion list them. */
export const statementKeywords = ["use", "let", "model", "dataset", "method", "train", "eval", "predict", "export", "chat"] as const;

export const recipeLexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });
