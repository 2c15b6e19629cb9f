import { type Diagnostic, error, type Span } from "../diagnostics";
import type { Entry } from "../recipe";
import { bool, entry, list, num, str, word } from "./build";
import { DROPPED, REFUSED } from "./llamafactory-keys";

export type Scalar = string | number | boolean | null;

export interface Value0 {
  /** The value when it is a single value (a YAML mapping or list reads as null here). */
  readonly value: Scalar;
  /** The value as YAML gave it: a scalar, or a mapping/list as plain data. */
  readonly raw: unknown;
  readonly span: Span;
}

export class Reader {
  readonly warnings: Diagnostic[] = [];
  /** Combinations that cannot be imported, each at its key. */
  readonly errors: Diagnostic[] = [];
  readonly #used = new Set<string>();

  constructor(
    readonly values: ReadonlyMap<string, Value0>,
    readonly file: string,
  ) {}

  /** Marks a key as carried over and returns its value; a mapping or list where one value belongs is an error. */
  take(key: string): Scalar | undefined {
    const found = this.values.get(key);
    if (found === undefined) return undefined;
    this.#used.add(key);
    if (found.raw !== null && typeof found.raw === "object") {
      this.fail(key, "expected a single value, as in LLaMA-Factory's own configs");
      return undefined;
    }
    return found.value;
  }

  /** A key whose value is a YAML mapping (lr_scheduler_kwargs), or a JSON object written as text. */
  mapping(key: string): Record<string, unknown> | undefined {
    const found = this.values.get(key);
    if (found === undefined || found.raw === null) return undefined;
    this.#used.add(key);
    let raw = found.raw;
    if (typeof raw === "string") {
      try {
        raw = JSON.parse(raw);
      } catch {
        this.warn(key, `expected a mapping, found ${JSON.stringify(found.raw)}; not carried over`);
        return undefined;
      }
    }
    if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) return raw as Record<string, unknown>;
    this.warn(key, "expected a mapping; not carried over");
    return undefined;
  }

  /** A list of names: LLaMA-Factory's comma-separated text, or a YAML list. */
  names(key: string): string[] {
    const found = this.values.get(key);
    if (found === undefined) return [];
    this.#used.add(key);
    if (Array.isArray(found.raw)) return found.raw.map((x) => String(x).trim()).filter((x) => x !== "");
    return splitList(found.value === null ? undefined : String(found.value));
  }

  number(key: string): number | undefined {
    const value = this.take(key);
    if (value === undefined || value === null) return undefined;
    const n = typeof value === "number" ? value : Number(value);
    if (Number.isFinite(n)) return n;
    this.warn(key, `expected a number, found ${JSON.stringify(value)}; not carried over`);
    return undefined;
  }

  string(key: string): string | undefined {
    const value = this.take(key);
    return value === undefined || value === null ? undefined : String(value);
  }

  flag(key: string): boolean {
    const value = this.take(key);
    return value === true || value === "true";
  }

  /** A boolean key as written: true, false, or undefined when absent. */
  optionalFlag(key: string): boolean | undefined {
    if (!this.has(key)) {
      this.take(key);
      return undefined;
    }
    return this.flag(key);
  }

  warn(key: string, why: string): void {
    this.#used.add(key);
    const span = this.values.get(key)?.span;
    this.warnings.push({ ...error("semantic", this.file, span, `${key}: ${why}`), severity: "warning" });
  }

  /** A warning about a LLaMA-Factory default the YAML does not write (so it has no line). */
  warnDefault(key: string, why: string): void {
    this.warnings.push({ ...error("semantic", this.file, undefined, `${key}: ${why}`), severity: "warning" });
  }

  /** An error at `key`'s line: the config cannot be imported as it stands. */
  fail(key: string, why: string): void {
    this.#used.add(key);
    this.errors.push(error("semantic", this.file, this.values.get(key)?.span, `${key}: ${why}`));
  }

  /** Whether the YAML sets `key` (a null value counts as unset). */
  has(key: string): boolean {
    const found = this.values.get(key);
    return found !== undefined && found.raw !== null;
  }

  /** Whether a key has been carried over or reported. */
  used(key: string): boolean {
    return this.#used.has(key);
  }

  /** Keys lft cannot reproduce, set to something that changes the result: errors. */
  refused(): void {
    for (const [key, rule] of Object.entries(REFUSED)) {
      const found = this.values.get(key);
      if (found === undefined || found.raw === null) continue;
      if (rule.inert.some((x) => x === found.raw || String(x) === String(found.raw))) {
        this.#used.add(key);
        continue;
      }
      this.fail(key, `${rule.why}; LLaMA-Factory would train or write something else than lft can, so the config is not imported`);
    }
  }

  /** Warnings for every key nobody took. */
  leftovers(): void {
    for (const key of this.values.keys()) {
      if (this.#used.has(key)) continue;
      this.warn(
        key,
        DROPPED[key] === undefined
          ? "not an argument of LLaMA-Factory or of the Hugging Face trainer that lft knows (LLaMA-Factory refuses unknown keys); not carried over"
          : `${DROPPED[key]}; not carried over`,
      );
    }
  }
}

/** Options that take a list of names (LLaMA-Factory writes them as comma-separated text). */
// GaLore's and APOLLO's `target` stays LLaMA-Factory's text ("all" or "q_proj,v_proj"), as their schema takes it.
const LIST_OPTIONS = new Set(["targets", "modules", "extra_modules", "additional_target"]);

/** Carries method keys over under their lft names; comma lists become lists of names. */
export function options(r: Reader, names: Readonly<Record<string, string>>): Entry[] {
  const entries: Entry[] = [];
  for (const [from, to] of Object.entries(names)) {
    const value = r.take(from);
    if (value === undefined || value === null) continue;
    if (LIST_OPTIONS.has(to)) entries.push(entry(to, list(splitList(String(value)).map(word))));
    else if (typeof value === "number") entries.push(entry(to, num(value)));
    else if (typeof value === "boolean") entries.push(entry(to, bool(value)));
    else entries.push(entry(to, /^[A-Za-z_][A-Za-z0-9_-]*$/.test(value) ? word(value) : str(value)));
  }
  return entries;
}

export function splitList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
