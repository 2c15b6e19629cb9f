// Command-line arguments of one verb: positionals, boolean flags it declares, and repeated
// `--set key=value`. Anything else is a usage error with a did-you-mean, never silently ignored.
// Part of the command contract: the DSL's verbs and plugins' verbs parse their arguments alike.

import { err, ok, type Result } from "neverthrow";
import { didYouMean, suggest } from "../registry/suggest.ts";

export interface Args {
  readonly positional: readonly string[];
  readonly flags: ReadonlySet<string>;
  readonly sets: readonly string[];
  /** Options that take a value (`--out DIR` or `--out=DIR`), by name with dashes. */
  readonly values: ReadonlyMap<string, string>;
}

export interface ArgSpec {
  /** Boolean flags this verb accepts, with their dashes: "--write". */
  readonly flags?: readonly string[];
  /** Whether --set is accepted. */
  readonly sets?: boolean;
  /** Options that take a value, with their dashes: "--out". */
  readonly values?: readonly string[];
  /** Exactly how many positionals (min, max). */
  readonly positional: readonly [number, number];
}

export function parseArgs(argv: readonly string[], spec: ArgSpec): Result<Args, string> {
  const positional: string[] = [];
  const flags = new Set<string>();
  const sets: string[] = [];
  const values = new Map<string, string>();
  const valued = spec.values ?? [];
  const known = [...(spec.flags ?? []), ...valued, ...(spec.sets === true ? ["--set"] : []), "--help"];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (spec.sets === true && (arg === "--set" || arg.startsWith("--set="))) {
      const value = arg === "--set" ? argv[++i] : arg.slice("--set=".length);
      if (value === undefined) return err("--set needs key=value, e.g. --set train.lr=2e-4");
      sets.push(value);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (valued.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) return err(`${name} needs a value`);
      values.set(name, value);
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") {
      const flag = arg === "-h" ? "--help" : arg;
      if (!known.includes(flag)) return err(`unknown option ${arg}${didYouMean(suggest(arg, known))}`);
      flags.add(flag);
      continue;
    }
    positional.push(arg);
  }
  const [min, max] = spec.positional;
  if (!flags.has("--help") && (positional.length < min || positional.length > max)) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    return err(`expected ${expected} argument${max === 1 ? "" : "s"}, found ${positional.length}${positional.length > 0 ? ` (${positional.join(" ")})` : ""}`);
  }
  return ok({ positional, flags, sets, values });
}
