// Option schemas: every plugin entry declares the options it accepts, and this one validator checks
// recipe values against them, so a third-party plugin's options are checked like built-in ones.

import { err, ok, type Result } from "neverthrow";
import { didYouMean, suggest, unknownNameTail } from "./suggest";

/** A value an option can hold once validated (recipes carry no objects or nulls as option values). */
export type OptionValue = number | string | boolean | readonly OptionValue[];

// Shapes are the type part of a spec. List items use a bare shape: an item has no doc or default.
export interface NumberShape {
  readonly type: "number";
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}
export interface StringShape {
  readonly type: "string";
}
export interface BooleanShape {
  readonly type: "boolean";
}
export interface EnumShape {
  readonly type: "enum";
  readonly values: readonly string[];
}
export interface ListShape {
  readonly type: "list";
  readonly item: OptionShape;
  readonly minLength?: number;
  readonly maxLength?: number;
}
export type OptionShape = NumberShape | StringShape | BooleanShape | EnumShape | ListShape;

/** The TypeScript type of a value accepted by a shape. */
export type ValueOfShape<S> = S extends { readonly type: "number" }
  ? number
  : S extends { readonly type: "string" }
    ? string
    : S extends { readonly type: "boolean" }
      ? boolean
      : S extends { readonly type: "enum"; readonly values: readonly (infer V)[] }
        ? V
        : S extends { readonly type: "list"; readonly item: infer I }
          ? readonly ValueOfShape<I>[]
          : never;

interface SpecCommon<S extends OptionShape> {
  /** One line; shown in diagnostics, on the board and by `lft plugins`. */
  readonly doc: string;
  readonly default?: ValueOfShape<S>;
  /** Without a default, a missing option is left unset unless it is required. */
  readonly required?: boolean;
}
export type NumberSpec = NumberShape & SpecCommon<NumberShape>;
export type StringSpec = StringShape & SpecCommon<StringShape>;
export type BooleanSpec = BooleanShape & SpecCommon<BooleanShape>;
export type EnumSpec = EnumShape & SpecCommon<EnumShape>;
export type ListSpec = ListShape & SpecCommon<ListShape>;
export type OptionSpec = NumberSpec | StringSpec | BooleanSpec | EnumSpec | ListSpec;

export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/** Validated options with the schema erased; what a registry entry receives at run time. */
export type ResolvedOptions = Readonly<Record<string, OptionValue>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type AlwaysSet<P> = P extends { readonly default: unknown } ? true : P extends { readonly required: true } ? true : false;

/**
 * The validated options of a schema written with `satisfies OptionSchema`: options with a default
 * (or `required: true`) are always present, the others optional. A schema only known as
 * `OptionSchema` (e.g. an entry's, read from the registry) gives the erased `ResolvedOptions`.
 */
export type OptionsOf<S extends OptionSchema> = string extends keyof S
  ? ResolvedOptions
  : Simplify<
      { readonly [K in keyof S as AlwaysSet<S[K]> extends true ? K : never]: ValueOfShape<S[K]> } & {
        readonly [K in keyof S as AlwaysSet<S[K]> extends true ? never : K]?: ValueOfShape<S[K]>;
      }
    >;

export interface OptionError {
  /** Who owns the options, e.g. `method "lora"`. */
  readonly where: string;
  /** Path of the offending option, e.g. `rank` or `target_modules[2]`. */
  readonly key: string;
  /** Full sentence, already prefixed with `where`. */
  readonly message: string;
}

/**
 * Check `values` (as parsed from a recipe) against `schema`. Unknown keys, wrong types and range
 * violations are all collected, so one run of the checker reports every mistake in a block.
 */
export function validateOptions<S extends OptionSchema>(schema: S, values: unknown, where: string): Result<OptionsOf<S>, OptionError[]> {
  const errors: OptionError[] = [];
  const fail = (key: string, message: string): void => {
    errors.push({ where, key, message: `${where}: ${message}` });
  };
  if (values !== undefined && values !== null && !isPlainObject(values)) {
    fail("", `options must be a set of key = value pairs, found ${describe(values)}`);
    return err(errors);
  }
  const given: Readonly<Record<string, unknown>> = values ?? {};
  const known = Object.keys(schema);

  for (const key of Object.keys(given)) {
    if (Object.hasOwn(schema, key)) continue;
    fail(key, `unknown option "${key}"${unknownNameTail(key, known, "known options")}`);
  }

  const resolved: Record<string, OptionValue> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = given[key];
    if (value === undefined) {
      if (spec.default !== undefined) resolved[key] = spec.default;
      else if (spec.required === true) fail(key, `option "${key}" is required (${spec.doc})`);
      continue;
    }
    const checked = checkValue(spec, value, key, fail);
    if (checked !== undefined) resolved[key] = checked;
  }
  // The checks above establish exactly the shape OptionsOf<S> describes; TS cannot follow that.
  return errors.length > 0 ? err(errors) : ok(resolved as OptionsOf<S>);
}

/**
 * Mistakes in a schema itself (a default outside its own range, an empty enum, a missing doc).
 * The registry refuses such entries at registration, so authors find out at load time, not mid-run.
 */
export function schemaProblems(schema: OptionSchema): string[] {
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(schema)) {
    if (typeof spec.doc !== "string" || spec.doc.trim() === "") problems.push(`option "${key}" has no doc`);
    problems.push(...shapeProblems(spec, key));
    if (spec.default !== undefined) {
      checkValue(spec, spec.default, key, (_path, message) => problems.push(`default of ${message}`));
    }
  }
  return problems;
}

function shapeProblems(shape: OptionShape, key: string): string[] {
  switch (shape.type) {
    case "number":
      return shape.min !== undefined && shape.max !== undefined && shape.min > shape.max ? [`option "${key}" has min ${shape.min} > max ${shape.max}`] : [];
    case "enum":
      return shape.values.length === 0 ? [`option "${key}" is an enum with no values`] : [];
    case "list":
      return shapeProblems(shape.item, `${key}[]`);
    case "string":
    case "boolean":
      return [];
    default:
      return [`option "${key}" has unknown type ${describe((shape as { type: unknown }).type)}`];
  }
}

/** Returns the accepted value, or undefined after reporting through `fail`. */
function checkValue(shape: OptionShape, value: unknown, path: string, fail: (key: string, message: string) => void): OptionValue | undefined {
  const mismatch = (expected: string): undefined => {
    fail(path, `option "${path}" expects ${expected}, found ${describe(value)}`);
    return undefined;
  };
  switch (shape.type) {
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) return mismatch("a finite number");
      if (shape.integer === true && !Number.isInteger(value)) return mismatch("an integer");
      // Counts past 2^53 are not exact in a double (9007199254740993 reads as ...992): never a real count.
      if (shape.integer === true && !Number.isSafeInteger(value)) return mismatch(`a whole number of at most ${Number.MAX_SAFE_INTEGER} (2^53 - 1)`);
      const { min, max } = shape;
      const outside = (min !== undefined && value < min) || (max !== undefined && value > max);
      if (!outside) return value;
      const range = min !== undefined && max !== undefined ? `in [${min}, ${max}]` : min !== undefined ? `>= ${min}` : `<= ${max}`;
      fail(path, `option "${path}" must be ${range}, found ${value}`);
      return undefined;
    }
    case "string":
      return typeof value === "string" ? value : mismatch("a string");
    case "boolean":
      return typeof value === "boolean" ? value : mismatch("a boolean (true or false)");
    case "enum": {
      if (typeof value === "string" && shape.values.includes(value)) return value;
      const hint = typeof value === "string" ? didYouMean(suggest(value, shape.values)) : "";
      fail(path, `option "${path}" must be one of ${shape.values.map((v) => `"${v}"`).join(", ")}, found ${describe(value)}${hint}`);
      return undefined;
    }
    case "list": {
      if (!Array.isArray(value)) return mismatch("a list");
      const { minLength, maxLength } = shape;
      if ((minLength !== undefined && value.length < minLength) || (maxLength !== undefined && value.length > maxLength)) {
        const bound = [minLength !== undefined ? `at least ${minLength}` : "", maxLength !== undefined ? `at most ${maxLength}` : ""]
          .filter((s) => s !== "")
          .join(" and ");
        fail(path, `option "${path}" must have ${bound} items, found ${value.length}`);
        return undefined;
      }
      const items: OptionValue[] = [];
      let ok = true;
      value.forEach((item: unknown, i: number) => {
        const checked = checkValue(shape.item, item, `${path}[${i}]`, fail);
        if (checked === undefined) ok = false;
        else items.push(checked);
      });
      return ok ? items : undefined;
    }
  }
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** How a found value is shown in messages: its kind and, where short, the value itself. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `a list of ${value.length}`;
  switch (typeof value) {
    case "number":
      return `number ${value}`;
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case "boolean":
      return `boolean ${value}`;
    case "bigint":
      return `bigint ${value}n`;
    case "function":
      return "a function";
    default:
      return `a ${typeof value}`;
  }
}
