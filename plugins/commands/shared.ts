// What the model/data/run verbs share: argument parsing with usage errors, resolving paths against
// the caller's directory, and the project's run database location.
import { resolve } from "node:path";
import type { CommandIO } from "../../core/index.ts";
import { type ArgSpec, type Args, ExitCode, parseArgs, runStorePath } from "../../core/index.ts";

export { ExitCode };

export function parseOrUsage(verb: string, usage: string, argv: readonly string[], spec: ArgSpec, io: CommandIO): Args | number {
  const parsed = parseArgs(argv, spec);
  if (parsed.isErr()) {
    io.stderr(`lft ${verb}: ${parsed.error}\nusage: lft ${verb} ${usage}\n`);
    return ExitCode.usage;
  }
  if (parsed.value.flags.has("--help")) {
    io.stdout(`usage: lft ${verb} ${usage}\n`);
    return ExitCode.ok;
  }
  return parsed.value;
}

export function pathIn(io: CommandIO, p: string): string {
  return resolve(io.cwd, p);
}

/** The run store: the user's (`$LFT_HOME`, else the XDG data folder), see core/store/location.ts. */
export function runDatabase(io: CommandIO): string {
  return runStorePath(process.env, io.cwd);
}

/** A positive integer option, or a usage message. */
export function intOption(args: Args, name: string, fallback: number): number | string {
  const raw = args.values.get(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  return Number.isInteger(v) && v > 0 ? v : `${name} must be a positive integer, got "${raw}"`;
}
