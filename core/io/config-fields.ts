// Typed reads of JSON config values: each read checks one key's type; every problem names the key, and
// all of a file's problems are reported together.
import { err, ok, type Result } from "neverthrow";
import { ConfigError } from "./errors.ts";
import { describeJson } from "./json.ts";

interface Kinds {
  string: string;
  strings: string[];
  boolean: boolean;
  object: Record<string, unknown>;
  int: number;
  positiveInt: number;
  nonNegativeInt: number;
  positive: number;
  nonNegative: number;
  unit: number;
  intOrInts: number | number[];
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

const CHECKS: { [K in keyof Kinds]: [(v: unknown) => boolean, string] } = {
  string: [(v) => typeof v === "string", "a string"],
  strings: [(v) => Array.isArray(v) && v.every((s) => typeof s === "string"), "a list of strings"],
  boolean: [(v) => typeof v === "boolean", "true or false"],
  object: [(v) => typeof v === "object" && v !== null && !Array.isArray(v), "an object"],
  int: [isInt, "an integer"],
  positiveInt: [(v) => isInt(v) && v > 0, "a positive integer"],
  nonNegativeInt: [(v) => isInt(v) && v >= 0, "a non-negative integer"],
  positive: [(v) => isNum(v) && v > 0, "a positive number"],
  nonNegative: [(v) => isNum(v) && v >= 0, "a non-negative number"],
  unit: [(v) => isNum(v) && v >= 0 && v <= 1, "a number between 0 and 1"],
  intOrInts: [(v) => isInt(v) || (Array.isArray(v) && v.length > 0 && v.every(isInt)), "an integer or a non-empty list of integers"],
};

export class FieldReader {
  private readonly problems: { key: string; detail: string }[] = [];

  constructor(
    readonly file: string,
    readonly raw: Readonly<Record<string, unknown>>,
  ) {}

  /** The value of `key`, or undefined when absent or null (HF writes null for "not set"). */
  read<K extends keyof Kinds>(key: string, kind: K): Kinds[K] | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    const [test, expected] = CHECKS[kind];
    if (test(v)) return v as Kinds[K];
    this.problems.push({ key, detail: `must be ${expected}, found ${describeJson(v)}` });
    return undefined;
  }

  /** ok(value) when every read succeeded, else one error listing every bad key. */
  finish<T>(value: T): Result<T, ConfigError> {
    if (this.problems.length === 0) return ok(value);
    if (this.problems.length === 1) return err(new ConfigError(this.file, this.problems[0]!.detail, { key: this.problems[0]!.key }));
    return err(new ConfigError(this.file, this.problems.map((p) => `key "${p.key}" ${p.detail}`).join("; ")));
  }
}
