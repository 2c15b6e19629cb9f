// The canonical form of a recipe (`lft fmt`, the REPL's `:recipe`): two-space indents, one option
// per line (or one short line for a short block), comments and blank lines kept where they were.
// parse(print(r)) equals r up to source positions; tests check it on every example and on fuzz output.

import type { Block, Body, Comments, Entry, Recipe, Statement, Value } from "./recipe";

/** A block body fits on its header line when it has at most this many options and no comments... */
const inlineEntries = 3;
/** ...and the line stays within this width. */
const lineWidth = 80;

export function printRecipe(recipe: Recipe): string {
  const out: string[] = [];
  recipe.statements.forEach((statement, i) => {
    out.push(...withComments(statement.comments, printStatement(statement), i > 0, ""));
  });
  out.push(...recipe.closing);
  while (out.at(-1) === "") out.pop();
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

export function printStatement(statement: Statement): string[] {
  switch (statement.kind) {
    case "use":
      return [`use ${printValue(statement.pkg)}`];
    case "let":
      return [`let ${statement.name.text} = ${printValue(statement.value)}`];
    case "block":
      return printBlock(statement);
  }
}

function printBlock(block: Block): string[] {
  const header: string[] = [block.block];
  if (block.name !== undefined) header.push(block.name.text);
  if (block.source !== undefined) header.push(printValue(block.source));
  if (block.duration !== undefined) header.push(`for ${block.duration.text} ${unitWord(block.duration.unit, block.duration.amount)}`);
  const head = header.join(" ");
  const body = block.body;
  if (body === undefined || (body.entries.length === 0 && body.closing.length === 0)) return [head];
  // A trailing comment after a one-line body would read back as the last option's comment.
  const inline = block.comments.trailing === undefined ? inlineBody(head, body) : undefined;
  if (inline !== undefined) return [inline];
  const lines = [`${head} {`];
  for (const [i, entry] of body.entries.entries()) lines.push(...withComments(entry.comments, [printEntry(entry)], i > 0, "  "));
  lines.push(...body.closing.map((c) => (c === "" ? "" : `  ${c}`)));
  lines.push("}");
  return lines;
}

function inlineBody(head: string, body: Body): string | undefined {
  if (body.entries.length > inlineEntries || body.closing.length > 0) return undefined;
  if (body.entries.some((e) => e.comments.leading.length > 0 || e.comments.trailing !== undefined || e.comments.blankBefore)) return undefined;
  const line = `${head} { ${body.entries.map(printEntry).join(", ")} }`;
  return line.length <= lineWidth ? line : undefined;
}

function printEntry(entry: Entry): string {
  return `${entry.key} = ${printValue(entry.value)}`;
}

/** Leading comments above, a blank line first where the source had one, the trailing comment after. */
function withComments(comments: Comments, lines: string[], notFirst: boolean, indent: string): string[] {
  const out: string[] = [];
  if (notFirst && comments.blankBefore) out.push("");
  out.push(...comments.leading.map((c) => (c === "" ? "" : `${indent}${c}`)));
  const body = lines.map((l) => `${indent}${l}`);
  if (comments.trailing !== undefined && body.length > 0) body[body.length - 1] = `${body.at(-1)}  ${comments.trailing}`;
  out.push(...body);
  return out;
}

export function printValue(value: Value): string {
  switch (value.kind) {
    case "string":
      return `"${value.raw}"`;
    case "number":
      if (value.unit === undefined) return value.text;
      return value.unit === "%" ? `${value.text}%` : `${value.text} ${unitWord(value.unit, value.value)}`;
    case "bool":
      return String(value.value);
    case "name":
      return value.name;
    case "ref":
      return `\${${value.name}}`;
    case "list":
      return `[${value.items.map(printValue).join(", ")}]`;
  }
}

/** `1 epoch`, `3 epochs`: the unit is stored plural and printed to agree with the amount. */
function unitWord(unit: "epochs" | "steps" | "tokens", amount: number): string {
  return amount === 1 ? unit.slice(0, -1) : unit;
}
