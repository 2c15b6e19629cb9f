// `--set key=value`: change a recipe before it is checked, without editing the file.
//   --set lr=2e-4                 a let binding
//   --set train.lr=2e-4           an option of the (only) train block; added when the block lacks it
//   --set dataset.2.weight=3      the second dataset block (1-based), or by name: --set train.dpo.beta=0.2
//   --set model.path="models/x"   a header part: model.family|path, dataset.format|source, method.name,
//                                 train.stage|for ("5 epochs"), eval/predict.format|source, export.path, chat.prompt
// Values use the recipe's own value grammar. Diagnostics point into the pseudo-file `--set`, whose
// line N is the N-th --set argument.

import { err, ok, type Result } from "neverthrow";
import { didYouMean, suggest } from "../core/index.ts";
import { blockKinds } from "./blocks";
import { type Diagnostic, error, type Span, sortDiagnostics } from "./diagnostics";
import { parseValue } from "./parse";
import type { Block, BlockKind, Duration, Entry, Recipe, Statement, Value, Word } from "./recipe";

export const overridesFile = "--set";

type Header = "name" | "source" | "duration";

/** Header parts by the key --set uses for them. */
const headerKeys: { readonly [K in BlockKind]: Readonly<Record<string, Header>> } = {
  model: { family: "name", path: "source" },
  dataset: { format: "name", source: "source" },
  method: { name: "name" },
  train: { stage: "name", for: "duration" },
  eval: { format: "name", source: "source" },
  predict: { format: "name", source: "source" },
  export: { path: "source" },
  chat: { prompt: "source" },
};

/** The pseudo-source diagnostics are shown against: one line per --set argument. */
export function overridesSource(sets: readonly string[]): string {
  return sets.join("\n");
}

export function applyOverrides(recipe: Recipe, sets: readonly string[]): Result<Recipe, Diagnostic[]> {
  const problems: Diagnostic[] = [];
  let current = recipe;
  let lineStart = 0;
  sets.forEach((set, i) => {
    const applied = applyOne(current, set, i + 1, lineStart);
    lineStart += set.length + 1;
    if (applied.isErr()) problems.push(...applied.error);
    else current = applied.value;
  });
  return problems.length > 0 ? err(sortDiagnostics(problems)) : ok(current);
}

/** `lineStart`: offset of this argument's line in the pseudo-source, so diagnostics sort by position. */
function applyOne(recipe: Recipe, set: string, line: number, lineStart: number): Result<Recipe, Diagnostic[]> {
  const span = (col: number, length: number): Span => ({ line, col, offset: lineStart + col - 1, length, file: overridesFile });
  const fail = (col: number, length: number, message: string) => err([error("semantic", overridesFile, span(col, length), message)]);
  const eq = set.indexOf("=");
  if (eq <= 0) return fail(1, set.length, `expected key=value, found ${JSON.stringify(set)}`);
  const path = set.slice(0, eq).split(".");
  const text = set.slice(eq + 1);
  // The shell ate the quotes of `--set output="runs/x"`: text that is no value is taken as a string.
  const written = parseValue(text, overridesFile);
  const parsed = written.isErr() && !/^["[]/.test(text) && text !== "" ? parseValue(`"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`, overridesFile) : written;
  if (parsed.isErr()) {
    return err(
      parsed.error.map((d) =>
        d.span === undefined
          ? d
          : { ...d, span: { ...d.span, line, col: d.span.col + eq + 1, offset: lineStart + d.span.offset + eq + 1, file: overridesFile } },
      ),
    );
  }
  const value = moveValue(parsed.value, line, eq + 1, lineStart);
  const pathSpan = span(1, eq);

  if (path.length === 1) return setLet(recipe, path[0]!, value, pathSpan);
  const [kind, ...rest] = path;
  if (!blockKinds.includes(kind as BlockKind)) {
    const lets = recipe.statements.flatMap((s) => (s.kind === "let" ? [s.name.text] : []));
    return fail(1, kind!.length, `unknown block "${kind}"${didYouMean(suggest(kind!, [...blockKinds, ...lets]))} (a --set key is a let name or block.key)`);
  }
  const blocks = recipe.statements.filter((s): s is Block => s.kind === "block" && s.block === kind);
  const key = rest.at(-1)!;
  const selector = rest.length > 1 ? rest.slice(0, -1).join(".") : undefined;
  const chosen = choose(blocks, kind as BlockKind, selector);
  if (typeof chosen === "string") return fail(1, eq, chosen);
  const header = headerKeys[kind as BlockKind][key];
  const updated = header === undefined ? setEntry(chosen, key, value, pathSpan) : setHeader(chosen, header, key, value);
  if (typeof updated === "string") return fail(eq + 2, set.length - eq - 1, updated);
  return ok({ ...recipe, statements: recipe.statements.map((s) => (s === chosen ? updated : s)) });
}

function choose(blocks: readonly Block[], kind: BlockKind, selector: string | undefined): Block | string {
  if (blocks.length === 0) return `the recipe has no ${kind} block`;
  if (selector === undefined) {
    if (blocks.length === 1) return blocks[0]!;
    const names = blocks.map((b, i) => `${kind}.${b.name?.text ?? i + 1}`);
    return `the recipe has ${blocks.length} ${kind} blocks; say which: ${names.join(", ")} (or ${kind}.1 ... ${kind}.${blocks.length})`;
  }
  if (/^\d+$/.test(selector)) {
    const block = blocks[Number(selector) - 1];
    return block ?? `there is no ${kind} block number ${selector}; the recipe has ${blocks.length}`;
  }
  const named = blocks.filter((b) => b.name?.text === selector);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) return `${named.length} ${kind} blocks are named ${selector}; choose one by number (${kind}.1 ... ${kind}.${blocks.length})`;
  const names = blocks.flatMap((b) => (b.name === undefined ? [] : [b.name.text]));
  return `no ${kind} block is named ${selector}${didYouMean(suggest(selector, names))}`;
}

function setLet(recipe: Recipe, name: string, value: Value, at: Span): Result<Recipe, Diagnostic[]> {
  const found = recipe.statements.find((s) => s.kind === "let" && s.name.text === name);
  if (found === undefined) {
    const lets = recipe.statements.flatMap((s) => (s.kind === "let" ? [s.name.text] : []));
    const hint = didYouMean(suggest(name, [...lets, ...blockKinds]));
    return err([
      error(
        "semantic",
        overridesFile,
        { ...at, length: name.length },
        `the recipe has no let ${name}${hint} (a --set key is a let name or block.key, e.g. train.lr)`,
      ),
    ]);
  }
  const statements = recipe.statements.map((s): Statement => (s === found && s.kind === "let" ? { ...s, value } : s));
  return ok({ ...recipe, statements });
}

function setEntry(block: Block, key: string, value: Value, keySpan: Span): Block {
  const entries = block.body?.entries ?? [];
  const present = entries.some((e) => e.key === key);
  const next: Entry[] = present
    ? entries.map((e) => (e.key === key ? { ...e, value } : e))
    : [...entries, { key, keySpan, value, comments: { leading: [], blankBefore: false } }];
  return { ...block, body: { entries: next, closing: block.body?.closing ?? [] } };
}

function setHeader(block: Block, header: Header, key: string, value: Value): Block | string {
  if (header === "duration") {
    if (value.kind !== "number" || (value.unit !== "epochs" && value.unit !== "steps"))
      return `${block.block}.${key} takes a duration such as "3 epochs" or "500 steps"`;
    const duration: Duration = { amount: value.value, text: value.text, unit: value.unit, span: value.span };
    return { ...block, duration };
  }
  if (header === "name") {
    if (value.kind !== "name") return `${block.block}.${key} takes a name, such as ${block.name?.text ?? "lora"}`;
    const name: Word = { text: value.name, span: value.span };
    return { ...block, name };
  }
  if (value.kind === "string") return { ...block, source: value };
  if (value.kind === "name") return { ...block, source: { kind: "string", raw: value.name, span: value.span } };
  return `${block.block}.${key} takes a string, such as "path/to/dir"`;
}

/** Values parsed alone start at column 1; move them to where they sit in the --set argument. */
function moveValue(value: Value, line: number, by: number, lineStart: number): Value {
  const span: Span = { ...value.span, line, col: value.span.col + by, offset: lineStart + value.span.offset + by, file: overridesFile };
  return value.kind === "list" ? { ...value, span, items: value.items.map((v) => moveValue(v, line, by, lineStart)) } : { ...value, span };
}
