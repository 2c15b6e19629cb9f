// CST → Recipe. One method per grammar rule (checked by validateVisitor), each returning the typed
// node; comments are handed out in document order so every comment lands on exactly one node.
// Statements the parser had to recover from are left out: their errors are already reported.

import type { CstNode, IToken } from "chevrotain";
import type {
  BodyCstChildren,
  ChatBlockCstChildren,
  DatasetBlockCstChildren,
  DurationCstChildren,
  EntryCstChildren,
  EvalBlockCstChildren,
  ExportBlockCstChildren,
  LetStatementCstChildren,
  ListCstChildren,
  MethodBlockCstChildren,
  ModelBlockCstChildren,
  PredictBlockCstChildren,
  QuantityCstChildren,
  RecipeCstChildren,
  StatementCstChildren,
  TrainBlockCstChildren,
  UseStatementCstChildren,
  ValueCstChildren,
  ValueCstNode,
} from "./cst";
import type { Span } from "./diagnostics";
import { recipeParser } from "./parser";
import type { Block, BlockKind, Body, Comments, Entry, Recipe, Statement, Unit, Value, Word } from "./recipe";

export function tokenSpan(token: IToken): Span {
  return { line: token.startLine ?? 1, col: token.startColumn ?? 1, offset: token.startOffset, length: token.image.length };
}

function nodeSpan(node: CstNode): Span {
  const at = node.location;
  if (at === undefined) return { line: 1, col: 1, offset: 0, length: 0 };
  const end = at.endOffset !== undefined && Number.isFinite(at.endOffset) ? at.endOffset : at.startOffset;
  return { line: at.startLine ?? 1, col: at.startColumn ?? 1, offset: at.startOffset, length: end - at.startOffset + 1 };
}

/** True when the parser re-synchronised somewhere inside: the node is missing parts. */
function recovered(node: CstNode): boolean {
  if (node.recoveredNode === true) return true;
  for (const children of Object.values(node.children)) {
    for (const child of children) if ("children" in child && recovered(child)) return true;
  }
  return false;
}

/** Comment tokens, handed out once each in source order. */
class CommentPool {
  #next = 0;
  constructor(private readonly comments: readonly IToken[]) {}

  /** Every unclaimed comment that starts before `offset`. */
  take(offset: number): IToken[] {
    const taken: IToken[] = [];
    while (this.#next < this.comments.length && this.comments[this.#next]!.startOffset < offset) {
      taken.push(this.comments[this.#next++]!);
    }
    return taken;
  }

  /** The next comment, if it sits on `line` after `offset` (a trailing comment). */
  trailing(line: number, offset: number): IToken | undefined {
    const next = this.comments[this.#next];
    if (next === undefined || next.startLine !== line || next.startOffset <= offset) return undefined;
    this.#next++;
    return next;
  }
}

interface VisitState {
  readonly pool: CommentPool;
  /** Last source line of the previous sibling, to notice blank lines; 0 for a first node. */
  prevLine: number;
}

const text = (t: IToken): string => t.image.trimEnd();

/**
 * Comment lines with the blank lines between them kept as "" (one per gap, however wide), from the
 * line after `prevLine` up to `nextLine`. A gap before the first one is reported as `blankBefore`.
 */
function commentLines(tokens: readonly IToken[], prevLine: number, nextLine: number | undefined): { lines: string[]; blankBefore: boolean } {
  const lines: string[] = [];
  let blankBefore = false;
  let last = prevLine;
  for (const token of tokens) {
    const line = token.startLine ?? last + 1;
    if (last > 0 && line - last > 1) {
      if (lines.length === 0) blankBefore = true;
      else lines.push("");
    }
    lines.push(text(token));
    last = line;
  }
  if (nextLine !== undefined && last > 0 && nextLine - last > 1) {
    if (lines.length === 0) blankBefore = true;
    else lines.push("");
  }
  return { lines, blankBefore };
}

function commentsFor(state: VisitState, start: CstNode, endLine: number, endOffset: number, leading: IToken[]): Comments {
  const startLine = start.location?.startLine ?? 1;
  const { lines, blankBefore } = commentLines(leading, state.prevLine, startLine);
  const trailing = state.pool.trailing(endLine, endOffset);
  state.prevLine = endLine;
  return trailing === undefined ? { leading: lines, blankBefore } : { leading: lines, trailing: text(trailing), blankBefore };
}

/** A node before its comments are attached (distributes over the Statement union). */
type Bare<T> = T extends unknown ? Omit<T, "comments"> : never;

const BaseVisitor = recipeParser.getBaseCstVisitorConstructor();

class RecipeVisitor extends BaseVisitor {
  constructor() {
    super();
    this.validateVisitor();
  }

  recipe(ctx: RecipeCstChildren, state: VisitState & { file: string; errorOffsets: readonly number[] }): Recipe {
    const statements: Statement[] = [];
    for (const node of ctx.statement ?? []) {
      const leading = state.pool.take(node.location?.startOffset ?? 0);
      const from = node.location?.startOffset ?? 0;
      const to = node.location?.endOffset ?? from;
      if (recovered(node) || state.errorOffsets.some((at) => at >= from && at <= to)) {
        state.pool.take((node.location?.endOffset ?? 0) + 1);
        state.prevLine = node.location?.endLine ?? state.prevLine;
        continue;
      }
      const made = this.statement(node.children, state);
      const endLine = node.location?.endLine ?? 1;
      const comments = commentsFor(state, node, endLine, node.location?.endOffset ?? 0, leading);
      if (made !== undefined) statements.push({ ...made, comments } as Statement);
    }
    const closing = commentLines(state.pool.take(Number.POSITIVE_INFINITY), state.prevLine, undefined);
    return { file: state.file, statements, closing: closing.blankBefore ? ["", ...closing.lines] : closing.lines };
  }

  statement(ctx: StatementCstChildren, state: VisitState): Bare<Statement> | undefined {
    const [use] = ctx.useStatement ?? [];
    if (use !== undefined) return this.useStatement(use.children);
    const [binding] = ctx.letStatement ?? [];
    if (binding !== undefined) return this.letStatement(binding.children, state);
    const blocks = [
      ctx.modelBlock?.[0] && this.modelBlock(ctx.modelBlock[0].children, state),
      ctx.datasetBlock?.[0] && this.datasetBlock(ctx.datasetBlock[0].children, state),
      ctx.methodBlock?.[0] && this.methodBlock(ctx.methodBlock[0].children, state),
      ctx.trainBlock?.[0] && this.trainBlock(ctx.trainBlock[0].children, state),
      ctx.evalBlock?.[0] && this.evalBlock(ctx.evalBlock[0].children, state),
      ctx.predictBlock?.[0] && this.predictBlock(ctx.predictBlock[0].children, state),
      ctx.exportBlock?.[0] && this.exportBlock(ctx.exportBlock[0].children, state),
      ctx.chatBlock?.[0] && this.chatBlock(ctx.chatBlock[0].children, state),
    ];
    return blocks.find((b) => b !== undefined);
  }

  useStatement(ctx: UseStatementCstChildren): Bare<Statement> | undefined {
    const [keyword] = ctx.Use;
    const pkg = stringOf(ctx.package[0]);
    return keyword === undefined || pkg === undefined ? undefined : { kind: "use", pkg, span: tokenSpan(keyword) };
  }

  letStatement(ctx: LetStatementCstChildren, state: VisitState): Bare<Statement> | undefined {
    const [keyword] = ctx.Let;
    const [name] = ctx.name;
    const [value] = ctx.value;
    if (keyword === undefined || name === undefined || value === undefined) return undefined;
    return { kind: "let", name: wordOf(name), value: this.value(value.children, state), span: tokenSpan(keyword) };
  }

  modelBlock(ctx: ModelBlockCstChildren, state: VisitState): Bare<Block> | undefined {
    return this.#block("model", ctx.Model[0], ctx.kind?.[0], ctx.source[0], undefined, ctx.body?.[0]?.children, state);
  }

  datasetBlock(ctx: DatasetBlockCstChildren, state: VisitState): Bare<Block> | undefined {
    return this.#block("dataset", ctx.Dataset[0], ctx.kind?.[0], ctx.source[0], undefined, ctx.body?.[0]?.children, state);
  }

  methodBlock(ctx: MethodBlockCstChildren, state: VisitState): Bare<Block> | undefined {
    return this.#block("method", ctx.Method[0], ctx.kind[0], undefined, undefined, ctx.body?.[0]?.children, state);
  }

  trainBlock(ctx: TrainBlockCstChildren, state: VisitState): Bare<Block> | undefined {
    const duration = ctx.duration?.[0];
    return this.#block("train", ctx.Train[0], ctx.kind?.[0], undefined, duration && this.duration(duration.children), ctx.body?.[0]?.children, state);
  }

  duration(ctx: DurationCstChildren): Block["duration"] {
    const [amount] = ctx.amount;
    const [unit] = ctx.unit ?? [];
    if (amount === undefined || unit === undefined) return undefined;
    const start = ctx.For?.[0] ?? amount;
    const span = { ...tokenSpan(start), length: unit.endOffset! - start.startOffset + 1 };
    return { amount: numberOf(amount.image), text: amount.image, unit: unit.image.startsWith("epoch") ? "epochs" : "steps", span };
  }

  evalBlock(ctx: EvalBlockCstChildren, state: VisitState): Bare<Block> | undefined {
    return this.#block("eval", ctx.Eval[0], ctx.kind?.[0], ctx.source?.[0], undefined, ctx.body?.[0]?.children, state);
  }

  predictBlock(ctx: PredictBlockCstChildren, state: VisitState): Bare<Block> | undefined {
    return this.#block("predict", ctx.Predict[0], ctx.kind?.[0], ctx.source[0], undefined, ctx.body?.[0]?.children, state);
  }

  exportBlock(ctx: ExportBlockCstChildren, state: VisitState): Bare<Block> | undefined {
    return this.#block("export", ctx.Export[0], undefined, ctx.source[0], undefined, ctx.body?.[0]?.children, state);
  }

  chatBlock(ctx: ChatBlockCstChildren, state: VisitState): Bare<Block> | undefined {
    return this.#block("chat", ctx.Chat[0], undefined, ctx.source?.[0], undefined, ctx.body?.[0]?.children, state);
  }

  body(ctx: BodyCstChildren, state: VisitState): Body | undefined {
    const [open] = ctx.LBrace;
    const [close] = ctx.RBrace;
    if (open === undefined || close === undefined) return undefined;
    // Entries' blank-line tracking starts at the brace; the statement's resumes afterwards.
    const outer = state.prevLine;
    state.prevLine = 0;
    const entries: Entry[] = [];
    for (const node of ctx.entry ?? []) {
      const leading = state.pool.take(node.location?.startOffset ?? 0);
      const made = this.entry(node.children, state);
      if (made === undefined) continue;
      const comments = commentsFor(state, node, node.location?.endLine ?? 1, node.location?.endOffset ?? 0, leading);
      entries.push({ ...made, comments });
    }
    const closing = commentLines(state.pool.take(close.startOffset), state.prevLine, undefined);
    state.prevLine = outer;
    const lines = closing.blankBefore && entries.length > 0 ? ["", ...closing.lines] : closing.lines;
    return entries.length === 0 && lines.length === 0 ? undefined : { entries, closing: lines };
  }

  entry(ctx: EntryCstChildren, state: VisitState): Bare<Entry> | undefined {
    const [key] = ctx.key;
    const [value] = ctx.value;
    if (key === undefined || value === undefined) return undefined;
    return { key: key.image, keySpan: tokenSpan(key), value: this.value(value.children, state) };
  }

  value(ctx: ValueCstChildren, state: VisitState): Value {
    const [quantity] = ctx.quantity ?? [];
    if (quantity !== undefined) return this.quantity(quantity.children);
    const [list] = ctx.list ?? [];
    if (list !== undefined) return this.list(list.children, state, nodeSpan(list));
    const token = ctx.StringLiteral?.[0] ?? ctx.True?.[0] ?? ctx.False?.[0] ?? ctx.Reference?.[0] ?? ctx.Name?.[0];
    if (token === undefined) throw new Error("value node without a token (the parser should have flagged it as recovered)");
    const span = tokenSpan(token);
    if (ctx.StringLiteral !== undefined) return { kind: "string", raw: token.image.slice(1, -1), span };
    if (ctx.True !== undefined) return { kind: "bool", value: true, span };
    if (ctx.False !== undefined) return { kind: "bool", value: false, span };
    if (ctx.Reference !== undefined) return { kind: "ref", name: token.image.slice(2, -1), span };
    return { kind: "name", name: token.image, span };
  }

  quantity(ctx: QuantityCstChildren): Value {
    const [number] = ctx.NumberLiteral;
    const [unit] = ctx.unit ?? [];
    if (number === undefined) throw new Error("quantity node without a number");
    const span = tokenSpan(number);
    const value = numberOf(number.image);
    if (unit === undefined) return { kind: "number", value, text: number.image, span };
    return { kind: "number", value, text: number.image, unit: unitOf(unit.image), span: { ...span, length: unit.endOffset! - number.startOffset + 1 } };
  }

  list(ctx: ListCstChildren, state: VisitState, span: Span): Value {
    return { kind: "list", items: (ctx.value ?? []).map((node: ValueCstNode) => this.value(node.children, state)), span };
  }

  #block(
    block: BlockKind,
    keyword: IToken | undefined,
    name: IToken | undefined,
    source: IToken | undefined,
    duration: Block["duration"],
    body: BodyCstChildren | undefined,
    state: VisitState,
  ): Bare<Block> | undefined {
    if (keyword === undefined) return undefined;
    const made: { -readonly [K in keyof Block]?: Block[K] } = { kind: "block", block, span: tokenSpan(keyword) };
    if (name !== undefined) made.name = wordOf(name);
    const str = stringOf(source);
    if (str !== undefined) made.source = str;
    if (duration !== undefined) made.duration = duration;
    const parsed = body && this.body(body, state);
    if (parsed !== undefined) made.body = parsed;
    return made as Bare<Block>;
  }
}

function wordOf(token: IToken): Word {
  return { text: token.image, span: tokenSpan(token) };
}

function stringOf(token: IToken | undefined): (Value & { kind: "string" }) | undefined {
  return token === undefined ? undefined : { kind: "string", raw: token.image.slice(1, -1), span: tokenSpan(token) };
}

export function numberOf(image: string): number {
  return Number(image.replace(/_/g, ""));
}

function unitOf(image: string): Unit {
  if (image === "%") return "%";
  if (image.startsWith("epoch")) return "epochs";
  if (image.startsWith("step")) return "steps";
  return "tokens";
}

const visitor = new RecipeVisitor();

/**
 * Builds the Recipe from a CST; `comments` are the lexer's comment tokens in source order. A
 * statement containing one of `errorOffsets` (where lexing or parsing failed) is left out.
 */
export function toRecipe(cst: CstNode, comments: readonly IToken[], file: string, errorOffsets: readonly number[]): Recipe {
  const children = cst.children as unknown as RecipeCstChildren;
  return visitor.recipe(children, { pool: new CommentPool(comments), prevLine: 0, file, errorOffsets });
}
