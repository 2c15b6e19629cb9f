// Form values <-> recipe text. Values are keyed `<section>.<field>` (`train.lr`, `method.rank`,
// `optimizer.name`). Recipe -> form takes the first block of each kind; everything else (use, let,
// repeated blocks, options no field shows) stays in `extra`, verbatim, with a `# @board <kind>`
// marker where a form block stood, so form -> recipe puts the blocks back in place. Blocks are
// written through the DSL printer, and the result is re-printed canonically when it parses.

import { recipeLexer, statementKeywords } from "../../lexer";
import { maxNesting, parseSource } from "../../parse";
import { printRecipe, printStatement } from "../../printer";
import type { Block, BlockKind, Entry, Recipe, Value } from "../../recipe";
import { enabledByDefault, type FormField, type FormSection, sectionFields } from "./form";

export type FormValues = Record<string, unknown>;

const noSpan = { line: 1, col: 1, offset: 0, length: 0 };
const noComments = { leading: [], blankBefore: false };
const markerPattern = /^#\s*@board\s+([a-z_]+)\s*$/;
const reservedWords = new Set<string>([...statementKeywords, "for", "true", "false", "epoch", "epochs", "step", "steps", "token", "tokens"]);
const identifier = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const numberText = /^-?(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?(%|\s*(epochs?|steps?|tokens?))?$/;
const refText = /^\$\{[A-Za-z_][A-Za-z0-9_-]*\}$/;

export class FormError extends Error {}

// ---- form -> recipe ----

/** A bare word when it lexes as one; a quoted string otherwise. */
function wordOrString(text: string): Value {
  if (identifier.test(text) && !reservedWords.has(text)) return { kind: "name", name: text, span: noSpan };
  return stringValue(text);
}

/** Form strings are raw recipe string text (escapes as written); a bare `"` is escaped. */
function stringValue(text: string): Value & { kind: "string" } {
  return { kind: "string", raw: text.replace(/\r?\n/g, "\\n").replace(/(^|[^\\])"/g, '$1\\"'), span: noSpan };
}

/** Text printed as is: numbers with units and `${refs}`, which the printer cannot build otherwise. */
function verbatim(text: string): Value {
  return { kind: "name", name: text, span: noSpan };
}

/** Refuses lists nested deeper than a recipe may nest them, without recursing (JSON allows any depth). */
function checkNesting(value: unknown, where: string): void {
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth > maxNesting) throw new FormError(`${where}: lists nest at most ${maxNesting} deep`);
    level = level.flatMap((v) => (Array.isArray(v) ? v : []));
  }
}

function valueFor(field: FormField | undefined, value: unknown, where: string): Value {
  if (Array.isArray(value)) return { kind: "list", items: value.map((v) => valueFor(field && { ...field, kind: "enum" }, v, where)), span: noSpan };
  if (typeof value === "boolean") return { kind: "bool", value, span: noSpan };
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new FormError(`${where}: ${value} is not a finite number`);
    return { kind: "number", value, text: String(value), span: noSpan };
  }
  if (typeof value !== "string") throw new FormError(`${where}: expected a string, number, boolean or list, got ${value === null ? "null" : typeof value}`);
  const text = value.trim();
  if (refText.test(text) && field?.kind !== "string" && field?.kind !== "path") return verbatim(text);
  switch (field?.kind) {
    case "number":
    case "integer":
      if (numberText.test(text)) return verbatim(text.replace(/\s+/g, " "));
      return stringValue(value);
    case "boolean":
      if (text === "true" || text === "false") return { kind: "bool", value: text === "true", span: noSpan };
      return stringValue(value);
    case "enum":
    case "list":
      return wordOrString(text);
    case "string":
    case "path":
      return stringValue(value);
    default:
      // An option no field declares (a plugin's, or a typo the check will name): keep numbers and words.
      if (numberText.test(text)) return verbatim(text);
      return text === "true" || text === "false" ? { kind: "bool", value: text === "true", span: noSpan } : wordOrString(text);
  }
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === "string" && v.trim() === "");
}

function sameAsDefault(field: FormField | undefined, v: unknown): boolean {
  if (field?.default === undefined) return false;
  return JSON.stringify(field.default) === JSON.stringify(v);
}

/** Values grouped by section id; a key without a section prefix is an error. */
function groupValues(values: FormValues, sections: readonly FormSection[]): Map<string, Map<string, unknown>> {
  const known = new Set(sections.map((s) => s.id));
  const out = new Map<string, Map<string, unknown>>();
  for (const [key, v] of Object.entries(values)) {
    const dot = key.indexOf(".");
    const section = dot > 0 ? key.slice(0, dot) : "";
    if (!known.has(section)) throw new FormError(`value "${key}": no form section "${section}"; sections: ${[...known].join(", ")}`);
    checkNesting(v, key);
    if (!out.has(section)) out.set(section, new Map());
    out.get(section)!.set(key.slice(dot + 1), v);
  }
  return out;
}

/** The block a section's values make, or undefined when the section is off or empty. */
function blockFor(kind: BlockKind, sections: readonly FormSection[], grouped: Map<string, Map<string, unknown>>): Block | undefined {
  const section = sections.find((s) => s.id === kind)!;
  const values = grouped.get(kind) ?? new Map<string, unknown>();
  const enabled = values.get("enabled");
  if (kind !== "model" && (enabled === false || (enabled === undefined && !enabledByDefault.has(kind)))) return undefined;
  const fields = sectionFields(section);
  const entries: Entry[] = [];
  const add = (key: string, field: FormField | undefined, v: unknown, where: string): void => {
    if (isEmpty(v) || sameAsDefault(field, v)) return;
    entries.push({ key, keySpan: noSpan, value: valueFor(field, v, where), comments: noComments });
  };
  const header = new Set(["enabled", "name", "source", "duration", "duration_unit"]);
  for (const [key, v] of values) if (!header.has(key)) add(key, fields.get(key), v, `${kind}.${key}`);
  // Sections that write into this block (optimizer, reward): their name is the option, the rest join it.
  for (const extra of sections.filter((s) => s.block === kind && s.id !== kind)) {
    const extraValues = grouped.get(extra.id);
    if (extraValues === undefined) continue;
    const extraFields = sectionFields(extra);
    for (const [key, v] of extraValues) {
      if (key === "name") add(extra.id, extra.fields[0], v, `${extra.id}.name`);
      else add(key, extraFields.get(key), v, `${extra.id}.${key}`);
    }
  }
  const name = values.get("name");
  const source = values.get("source");
  const amount = values.get("duration");
  const unit = values.get("duration_unit") === "steps" ? "steps" : "epochs";
  const duration =
    typeof amount === "number" || (typeof amount === "string" && amount.trim() !== "")
      ? { amount: Number(amount), text: String(amount).trim(), unit: unit as "epochs" | "steps", span: noSpan }
      : undefined;
  if (duration !== undefined && !Number.isFinite(duration.amount)) throw new FormError(`${kind}.duration: "${String(amount)}" is not a number`);
  return {
    kind: "block",
    block: kind,
    ...(isEmpty(name) ? {} : { name: { text: String(name).trim(), span: noSpan } }),
    ...(isEmpty(source) ? {} : { source: stringValue(String(source)) }),
    ...(duration === undefined ? {} : { duration }),
    ...(entries.length === 0 ? {} : { body: { entries, closing: [] } }),
    span: noSpan,
    comments: noComments,
  };
}

const declarations: readonly BlockKind[] = ["model", "dataset", "method"];

/** Recipe text from form values, placed into `extra` where its markers are. */
export function formToRecipe(values: FormValues, sections: readonly FormSection[], extra = ""): string {
  const grouped = groupValues(values, sections);
  const kinds = [...new Set(sections.map((s) => s.block))];
  const texts = new Map<BlockKind, string>();
  for (const kind of kinds) {
    const block = blockFor(kind, sections, grouped);
    if (block !== undefined) texts.set(kind, printStatement(block).join("\n"));
  }
  const placed = new Set<string>();
  const lines = extra === "" ? [] : extra.replace(/\n+$/, "").split("\n");
  const body: string[] = [];
  for (const line of lines) {
    const marker = markerPattern.exec(line.trim());
    if (marker === null) {
      body.push(line);
      continue;
    }
    const kind = marker[1] as BlockKind;
    placed.add(kind);
    const text = texts.get(kind);
    if (text !== undefined) body.push(text);
  }
  const before = declarations.filter((k) => !placed.has(k) && texts.has(k)).map((k) => texts.get(k)!);
  const after = kinds.filter((k) => !declarations.includes(k) && !placed.has(k) && texts.has(k)).map((k) => texts.get(k)!);
  const text = [...before, ...body, ...after].join("\n").replace(/\n{3,}/g, "\n\n");
  const out = text.trim() === "" ? "" : `${text.replace(/\s+$/, "")}\n`;
  // Canonical layout when it parses; as assembled otherwise, so the check can locate what is wrong.
  const parsed = parseSource(out, "<board>");
  return parsed.diagnostics.length === 0 ? printRecipe(parsed.recipe) : out;
}

// ---- recipe -> form ----

function formValue(v: Value): unknown {
  switch (v.kind) {
    case "string":
      return v.raw;
    case "number":
      return v.unit === undefined ? v.value : v.unit === "%" ? `${v.text}%` : `${v.text} ${v.unit}`;
    case "bool":
      return v.value;
    case "name":
      return v.name;
    case "ref":
      return `\${${v.name}}`;
    case "list":
      return v.items.map(formValue);
  }
}

/** Where each statement ends: after its last token (and a comment on that line), before the next statement. */
function statementEnds(source: string, starts: readonly number[]): number[] {
  const tokens = recipeLexer.tokenize(source).tokens;
  return starts.map((start, i) => {
    const next = starts[i + 1] ?? source.length;
    let end = start;
    for (const t of tokens) if (t.startOffset >= start && t.startOffset < next) end = Math.max(end, (t.endOffset ?? t.startOffset) + 1);
    const lineEnd = source.indexOf("\n", end);
    const rest = source.slice(end, lineEnd < 0 ? source.length : lineEnd);
    if (/^\s*#/.test(rest) && (lineEnd < 0 ? source.length : lineEnd) <= next) end = lineEnd < 0 ? source.length : lineEnd;
    return end;
  });
}

export interface FormOfRecipe {
  readonly values: FormValues;
  readonly extra: string;
}

/** Form values from recipe text; the caller reports parse problems (a broken recipe still fills what parsed). */
export function recipeToForm(source: string, recipe: Recipe, sections: readonly FormSection[]): FormOfRecipe {
  const values: FormValues = {};
  const starts = recipe.statements.map((s) => s.span.offset);
  const ends = statementEnds(source, starts);
  const seen = new Set<BlockKind>();
  const replaced: { start: number; end: number; kind: BlockKind }[] = [];
  recipe.statements.forEach((statement, i) => {
    if (statement.kind !== "block" || seen.has(statement.block)) return;
    const section = sections.find((s) => s.id === statement.block);
    if (section === undefined) return;
    seen.add(statement.block);
    const kind = statement.block;
    const own = sectionFields(section);
    const refSections = sections.filter((s) => s.block === kind && s.id !== kind);
    if (kind !== "model") values[`${kind}.enabled`] = true;
    if (statement.name !== undefined) values[`${kind}.name`] = statement.name.text;
    if (statement.source !== undefined) values[`${kind}.source`] = statement.source.raw;
    if (statement.duration !== undefined) {
      values[`${kind}.duration`] = statement.duration.amount;
      values[`${kind}.duration_unit`] = statement.duration.unit;
    }
    for (const entry of statement.body?.entries ?? []) {
      const ref = refSections.find((s) => s.id === entry.key);
      const holder = refSections.find((s) => sectionFields(s).has(entry.key) && !own.has(entry.key));
      // An option no field shows (a plugin's, or a typo) is kept under the block's section all the same.
      const key = ref !== undefined ? `${ref.id}.name` : holder !== undefined ? `${holder.id}.${entry.key}` : `${kind}.${entry.key}`;
      values[key] = formValue(entry.value);
    }
    replaced.push({ start: source.lastIndexOf("\n", statement.span.offset) + 1, end: ends[i]!, kind });
  });
  let extra = "";
  let at = 0;
  for (const r of replaced) {
    extra += `${source.slice(at, r.start)}# @board ${r.kind}`;
    at = r.end;
  }
  extra += source.slice(at);
  return { values, extra: extra.trim() === "" ? "" : extra };
}
