// Tab completion for the REPL: statement keywords, registry entries after a block keyword, option
// names inside a block (lft's and the named plugin's), option values (enum values, registry names,
// true/false), `${let}` names, and `:commands`. Context comes from lexing what was typed so far,
// including the unfinished lines of a multi-line block.

import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import type { IToken } from "chevrotain";
import type { OptionSpec, Registry } from "../../core/index.ts";
import { blockRules } from "../blocks";
import { Equals, LBrace, LBracket, RBrace, RBracket, recipeLexer, statementKeywords } from "../lexer";
import type { BlockKind } from "../recipe";

export interface CompletionContext {
  readonly registry: Registry;
  /** Names bound by `let` so far. */
  readonly lets: readonly string[];
  /** `:commands` the REPL offers, without the colon. */
  readonly commands: readonly string[];
  /** Inside a string, file paths complete from this folder (relative paths resolve from it). */
  readonly cwd?: string;
}

/** Candidates for the word before the cursor, and that word (readline replaces it). */
export function complete(pending: string, line: string, ctx: CompletionContext): [string[], string] {
  if (pending.trim() === "" && line.trimStart().startsWith(":")) {
    const word = line.trimStart();
    if (/\s/.test(word)) return [[], ""];
    return [
      filter(
        ctx.commands.map((c) => `:${c}`),
        word,
      ),
      word,
    ];
  }
  const quoted = openString(line);
  if (quoted !== undefined) return ctx.cwd === undefined || quoted.includes("${") ? [[], quoted] : [paths(quoted, ctx.cwd), quoted];
  const word = /(\$\{[A-Za-z0-9_-]*|[A-Za-z_][A-Za-z0-9_-]*)$/.exec(line)?.[0] ?? "";
  if (word.startsWith("${"))
    return [
      filter(
        ctx.lets.map((n) => `\${${n}}`),
        word,
      ),
      word,
    ];
  const before = `${pending}\n${line.slice(0, line.length - word.length)}`;
  return [filter(candidates(before, ctx), word), word];
}

/** The text after an unclosed `"` on the line (the cursor is inside a string), else undefined. */
function openString(line: string): string | undefined {
  let start: number | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "#" && start === undefined) return undefined;
    if (c === "\\" && start !== undefined) i++;
    else if (c === '"') start = start === undefined ? i + 1 : undefined;
  }
  return start === undefined ? undefined : line.slice(start);
}

/** Files and folders (with a trailing /) whose path starts with `typed`, relative to `cwd`. */
function paths(typed: string, cwd: string): string[] {
  const cut = typed.lastIndexOf("/") + 1;
  const folder = typed.slice(0, cut);
  const stem = typed.slice(cut);
  try {
    const entries = readdirSync(resolve(cwd, folder === "" ? "." : folder), { withFileTypes: true });
    return entries
      .filter((e) => e.name.startsWith(stem) && (stem.startsWith(".") || !e.name.startsWith(".")))
      .map((e) => `${folder}${e.name}${e.isDirectory() ? "/" : ""}`)
      .sort();
  } catch {
    return [];
  }
}

function filter(all: readonly string[], word: string): string[] {
  return [...new Set(all)].filter((c) => c.startsWith(word)).sort();
}

function candidates(before: string, ctx: CompletionContext): string[] {
  const tokens = recipeLexer.tokenize(before).tokens;
  const at = scan(tokens);
  if (at.depth === 0) {
    const last = tokens.at(-1);
    const kind = last === undefined ? undefined : keywordKind(last);
    const rule = kind === undefined ? undefined : blockRules[kind].name;
    if (rule !== undefined) return ctx.registry.list(rule.collection).map((e) => e.name);
    return [...statementKeywords];
  }
  if (at.block === undefined) return [];
  const schema = optionsOf(at.block, at.name, ctx.registry);
  if (at.valueKey !== undefined) return valuesOf(at.block, at.valueKey, schema[at.valueKey], ctx.registry);
  return Object.keys(schema);
}

interface Position {
  readonly depth: number;
  /** The block whose body the cursor is in, and the entry it names. */
  readonly block?: BlockKind;
  readonly name?: string;
  /** Set when the cursor is at a value: the option's key. */
  readonly valueKey?: string;
}

/** Where the cursor is, from the tokens before it. */
function scan(tokens: readonly IToken[]): Position {
  let depth = 0;
  let block: BlockKind | undefined;
  let name: string | undefined;
  let key: string | undefined;
  let listDepth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const kind = depth === 0 ? keywordKind(t) : undefined;
    if (kind !== undefined) {
      block = kind;
      name = undefined;
      const next = tokens[i + 1];
      if (next !== undefined && next.tokenType.name === "Identifier") name = next.image;
      continue;
    }
    if (t.tokenType === LBrace) depth++;
    else if (t.tokenType === RBrace) depth = Math.max(0, depth - 1);
    else if (t.tokenType === Equals && depth > 0) key = tokens[i - 1]?.image;
    else if (t.tokenType === LBracket) listDepth++;
    else if (t.tokenType === RBracket) listDepth = Math.max(0, listDepth - 1);
  }
  // The value position is the token right after `=`, or anywhere inside a list.
  const last = tokens.at(-1);
  const atValue = depth > 0 && (last?.tokenType === Equals || listDepth > 0);
  return {
    depth,
    ...(block === undefined ? {} : { block }),
    ...(name === undefined ? {} : { name }),
    ...(atValue && key !== undefined ? { valueKey: key } : {}),
  };
}

function keywordKind(token: IToken): BlockKind | undefined {
  const word = token.image;
  return Object.hasOwn(blockRules, word) && token.tokenType.name.toLowerCase() === word ? (word as BlockKind) : undefined;
}

/**
 * lft's options for the block plus the named entry's (or every entry's, when none is named), and
 * those of every entry an option-bringing ref may name (`optimizer = sgd` → momentum).
 */
function optionsOf(block: BlockKind, name: string | undefined, registry: Registry): Record<string, OptionSpec | undefined> {
  const rule = blockRules[block];
  const schema: Record<string, OptionSpec | undefined> = { ...rule.options };
  for (const ref of Object.values(rule.refs ?? {})) {
    if (ref.options !== true) continue;
    for (const entry of registry.list(ref.collection)) for (const [key, spec] of Object.entries(entry.options ?? {})) schema[key] ??= spec;
  }
  if (rule.name === undefined) return schema;
  const entries =
    name === undefined
      ? registry.list(rule.name.collection)
      : registry.get(rule.name.collection, name).match(
          (e) => [e],
          () => [],
        );
  for (const entry of entries) Object.assign(schema, entry.options ?? {});
  return schema;
}

function valuesOf(block: BlockKind, key: string, spec: OptionSpec | undefined, registry: Registry): string[] {
  const ref = blockRules[block].refs?.[key];
  if (ref !== undefined) return [...registry.list(ref.collection).map((e) => e.name), ...(ref.also ?? [])];
  if (spec === undefined) return [];
  const shape = spec.type === "list" ? spec.item : spec;
  if (shape.type === "enum") return [...shape.values];
  if (shape.type === "boolean") return ["true", "false"];
  return [];
}
