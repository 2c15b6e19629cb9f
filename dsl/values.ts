// From written values to plain option values: `let` bindings substituted, `${name}` interpolated into
// strings, escapes decoded, `%` applied. Problems become diagnostics at the exact character.

import { didYouMean, type OptionValue, suggest } from "../core/index.ts";
import { type Diagnostic, error, type Span } from "./diagnostics";
import type { Unit, Value } from "./recipe";

/** A plain value, with the unit word it was written with (`100 steps` → 100, "steps"). */
export interface Resolved {
  readonly value: OptionValue;
  readonly unit?: Exclude<Unit, "%">;
}

export interface Binding {
  readonly resolved: Resolved;
  readonly span: Span;
  used: boolean;
}

/** `let` bindings in scope, by name. */
export type Env = Map<string, Binding>;

/** JSON's one-character escapes, plus `\$` for a literal dollar sign. */
const simpleEscapes: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", $: "$" };

export class Resolver {
  constructor(
    readonly env: Env,
    readonly file: string,
    readonly diagnostics: Diagnostic[],
  ) {}

  value(v: Value): Resolved | undefined {
    switch (v.kind) {
      case "string": {
        const text = this.string(v);
        return text === undefined ? undefined : { value: text };
      }
      case "number": {
        const value = v.unit === "%" ? v.value / 100 : v.value;
        if (!Number.isFinite(value)) return this.#fail(v.span, `number ${v.text} is out of range`);
        return v.unit === undefined || v.unit === "%" ? { value } : { value, unit: v.unit };
      }
      case "bool":
        return { value: v.value };
      case "name":
        return { value: v.name };
      case "ref":
        return this.#lookup(v.name, v.span);
      case "list": {
        const items: OptionValue[] = [];
        let ok = true;
        for (const item of v.items) {
          const resolved = this.value(item);
          if (resolved === undefined) ok = false;
          else if (resolved.unit !== undefined) {
            this.#fail(item.span, `a unit (${resolved.unit}) cannot be used inside a list`);
            ok = false;
          } else items.push(resolved.value);
        }
        return ok ? { value: items } : undefined;
      }
    }
  }

  /** Decodes escapes and interpolates `${name}`; `\$` writes a literal dollar sign. */
  string(v: Value & { kind: "string" }): string | undefined {
    const raw = v.raw;
    // Column of raw[i] is span.col + 1 + i (strings never span lines).
    const at = (i: number, length: number): Span => ({ line: v.span.line, col: v.span.col + 1 + i, offset: v.span.offset + 1 + i, length });
    let ok = true;
    // One native scan for escapes and ${...}: a loop over the characters is slow on multi-megabyte strings.
    const out = raw.replace(
      /\\(u[0-9a-fA-F]{4}|[\s\S]?)|\$\{([A-Za-z_][A-Za-z0-9_-]*)\}|\$\{/g,
      (match: string, escaped: string | undefined, name: string | undefined, i: number) => {
        if (escaped !== undefined) {
          if (escaped.length === 5) return String.fromCharCode(parseInt(escaped.slice(1), 16));
          const simple = simpleEscapes[escaped];
          if (Object.hasOwn(simpleEscapes, escaped) && simple !== undefined) return simple;
          this.#fail(at(i, 2), `unknown escape \\${escaped} in a string (write \\\\ for a backslash)`);
          ok = false;
          return "";
        }
        if (name === undefined) {
          this.#fail(at(i, 2), "expected ${name} (a let binding) after ${; write \\$ for a literal dollar sign");
          ok = false;
          return "";
        }
        const resolved = this.#lookup(name, at(i, match.length));
        if (resolved === undefined) {
          ok = false;
          return "";
        }
        if (Array.isArray(resolved.value)) {
          this.#fail(at(i, match.length), `\${${name}} is a list and cannot be put inside a string`);
          ok = false;
          return "";
        }
        return String(resolved.value);
      },
    );
    return ok ? out : undefined;
  }

  #lookup(name: string, span: Span): Resolved | undefined {
    const binding = this.env.get(name);
    if (binding !== undefined) {
      binding.used = true;
      return binding.resolved;
    }
    const known = [...this.env.keys()];
    const tail = known.length === 0 ? "; the recipe has no let bindings before this point" : `${didYouMean(suggest(name, known))}`;
    return this.#fail(span, `\${${name}} is not defined${tail}`);
  }

  #fail(span: Span, message: string): undefined {
    this.diagnostics.push(error("semantic", this.file, span, message));
    return undefined;
  }
}
