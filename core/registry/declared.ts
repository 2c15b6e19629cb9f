// A plugin package's declaration: the `lft` field of its package.json saying what the package provides
// and with which option schemas, e.g.
//   "lft": { "entry": "./index.ts", "provides": { "optimizers": { "signum": { "options": { ... } } } } }
// Read-only verbs (lft check, fmt, plugins) register a declaration instead of importing the package, so
// a recipe's names and options are checked without running the package's code; a run imports the
// package and compares what it registered with what it declared.

import { err, ok, type Result } from "neverthrow";
import type { EntryBase } from "./collections";
import { type OptionSchema, schemaProblems } from "./options";
import { definePlugin, type Plugin } from "./plugin";
import type { PluginInfo } from "./registry";

/** Collections a recipe names entries of; commands, backends and hooks are only reachable by running a plugin. */
export const declarableCollections = ["models", "datasets", "templates", "methods", "stages", "optimizers", "metrics", "rewards"] as const;
export type DeclarableCollection = (typeof declarableCollections)[number];

export interface DeclaredEntry {
  readonly doc?: string;
  readonly options?: OptionSchema;
}

export interface PluginDeclaration {
  /** The module the package's plugin is imported from, relative to the package folder. */
  readonly entry?: string;
  readonly provides: { readonly [K in DeclarableCollection]?: Readonly<Record<string, DeclaredEntry>> };
}

/** Names JSON may carry as own keys but that would reach an object's prototype once used as keys. */
const reserved = new Set(["__proto__", "constructor", "prototype"]);

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The declaration in a package.json's `lft` field; undefined when the field declares nothing (absent,
 * or only a project's `plugins` list). An error names the first part that is malformed.
 */
export function parseDeclaration(lft: unknown): Result<PluginDeclaration | undefined, string> {
  if (lft === undefined || (isObject(lft) && lft.provides === undefined)) return ok(undefined);
  if (!isObject(lft)) return err('"lft" must be an object: { "entry": "./index.ts", "provides": { ... } }');
  const { entry, provides } = lft;
  if (entry !== undefined && (typeof entry !== "string" || !/^\.\.?\//.test(entry))) return err('"lft.entry" must be a relative path such as "./index.ts"');
  if (!isObject(provides)) return err('"lft.provides" must be an object: collection -> { name -> { "doc", "options" } }');
  const problems: string[] = [];
  for (const [collection, entries] of Object.entries(provides)) {
    const where = `lft.provides.${collection}`;
    if (!(declarableCollections as readonly string[]).includes(collection)) {
      problems.push(`"${where}": collections a package declares are ${declarableCollections.join(", ")}`);
      continue;
    }
    if (!isObject(entries)) {
      problems.push(`"${where}" must be an object of entry names`);
      continue;
    }
    for (const [name, entry] of Object.entries(entries)) {
      if (reserved.has(name)) problems.push(`"${where}.${name}": "${name}" cannot be an entry name`);
      else problems.push(...entryProblems(entry, `${where}.${name}`));
    }
  }
  if (problems.length > 0) return err(problems.join("; "));
  return ok({ ...(entry === undefined ? {} : { entry: entry as string }), provides: provides as PluginDeclaration["provides"] });
}

function entryProblems(entry: unknown, where: string): string[] {
  if (!isObject(entry)) return [`"${where}" must be an object: { "doc": "...", "options": { ... } }`];
  if (entry.doc !== undefined && typeof entry.doc !== "string") return [`"${where}.doc" must be a string`];
  if (entry.options === undefined) return [];
  if (!isObject(entry.options)) return [`"${where}.options" must be an object of option schemas`];
  const shapes = Object.entries(entry.options).flatMap(([key, spec]) =>
    reserved.has(key) ? [`"${where}.options.${key}": "${key}" cannot be an option name`] : jsonShapeProblems(spec, `${where}.options.${key}`, true),
  );
  if (shapes.length > 0) return shapes;
  return schemaProblems(entry.options as OptionSchema).map((p) => `"${where}": ${p}`);
}

/** Structure checks a JSON value needs before schemaProblems can read it as a spec. */
function jsonShapeProblems(spec: unknown, where: string, top: boolean): string[] {
  if (!isObject(spec)) return [`"${where}" must be an object with a "type"`];
  const problems: string[] = [];
  const numeric = (key: string): void => {
    if (spec[key] !== undefined && (typeof spec[key] !== "number" || !Number.isFinite(spec[key]))) problems.push(`"${where}.${key}" must be a number`);
  };
  if (top && typeof spec.doc !== "string") problems.push(`"${where}.doc" must be a string`);
  if (top && spec.required !== undefined && typeof spec.required !== "boolean") problems.push(`"${where}.required" must be true or false`);
  switch (spec.type) {
    case "number":
      numeric("min");
      numeric("max");
      if (spec.integer !== undefined && typeof spec.integer !== "boolean") problems.push(`"${where}.integer" must be true or false`);
      break;
    case "enum":
      if (!Array.isArray(spec.values) || !spec.values.every((v) => typeof v === "string")) problems.push(`"${where}.values" must be a list of strings`);
      break;
    case "list":
      numeric("minLength");
      numeric("maxLength");
      problems.push(...jsonShapeProblems(spec.item, `${where}.item`, false));
      break;
    case "string":
    case "boolean":
      break;
    default:
      problems.push(`"${where}.type" must be one of number, string, boolean, enum, list`);
  }
  return problems;
}

/**
 * A plugin that registers the declared entries (name, doc, options; no code), under the package's
 * name. Checks read only those fields; nothing a run needs is there, so it is for read-only verbs.
 */
export function declaredPlugin(name: string, version: string | undefined, declaration: PluginDeclaration): Plugin {
  return definePlugin({
    name,
    ...(version === undefined ? {} : { version }),
    setup(api) {
      const register = api.register as unknown as Record<DeclarableCollection, (entry: EntryBase) => void>;
      for (const collection of declarableCollections) {
        for (const [entry, spec] of Object.entries(declaration.provides[collection] ?? {})) {
          register[collection]({
            name: entry,
            ...(spec.doc === undefined ? {} : { doc: spec.doc }),
            ...(spec.options === undefined ? {} : { options: spec.options }),
          });
        }
      }
    },
  });
}

/**
 * Where a loaded plugin differs from its package's declaration: names registered but not declared
 * (or the reverse), and options whose schema differs (docs aside). Empty when they agree.
 */
export function declarationMismatches(
  declaration: PluginDeclaration,
  info: PluginInfo,
  optionsOf: (collection: DeclarableCollection, name: string) => OptionSchema | undefined,
): string[] {
  const problems: string[] = [];
  for (const collection of declarableCollections) {
    const declared = declaration.provides[collection] ?? {};
    const registered = info.registered[collection] ?? [];
    for (const name of registered) if (!Object.hasOwn(declared, name)) problems.push(`registers ${collection} "${name}", which package.json does not declare`);
    for (const [name, spec] of Object.entries(declared)) {
      if (!registered.includes(name)) {
        problems.push(`declares ${collection} "${name}", which the plugin does not register`);
        continue;
      }
      const actual = optionsOf(collection, name) ?? {};
      const written = spec.options ?? {};
      for (const key of new Set([...Object.keys(actual), ...Object.keys(written)])) {
        const a = actual[key];
        const w = written[key];
        if (a === undefined) problems.push(`declares option "${key}" of ${collection} "${name}", which the plugin does not accept`);
        else if (w === undefined) problems.push(`${collection} "${name}" accepts option "${key}", which package.json does not declare`);
        else if (canonical(a) !== canonical(w)) problems.push(`${collection} "${name}" option "${key}" is declared as ${canonical(w)} but is ${canonical(a)}`);
      }
    }
  }
  return problems;
}

/** A spec as JSON with sorted keys and without its doc, so declared and registered specs compare. */
function canonical(spec: unknown): string {
  const sort = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sort);
    if (!isObject(value)) return value;
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => k !== "doc" && value[k] !== undefined)
        .sort()
        .map((k) => [k, sort(value[k])]),
    );
  };
  return JSON.stringify(sort(spec));
}
