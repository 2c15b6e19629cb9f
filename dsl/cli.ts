#!/usr/bin/env bun
// The `lft` command: `lft <recipe.lft>` runs a recipe, `lft <verb> ...` dispatches through the
// registry's commands (so plugins add verbs), `lft` alone opens the REPL. User errors end with an
// exit status and a message, never a stack trace.

import { type CommandIO, didYouMean, type Plugin, suggest } from "../core/index.ts";
import { useCpuBackendByDefault } from "../plugins/index.ts";
import { cliVerbs, verbHelp } from "./commands/help";
import { lftPlugin } from "./commands/index";
import { formatDiagnostics } from "./diagnostics";
import { ExitCode } from "./exit-codes";
import { openSession } from "./session";

/** Verbs the issue plans that arrive with later plugins: named as "not available", not "unknown". */
const plannedVerbs = ["chat", "models", "data", "runs", "export", "board", "make-tiny", "convert"];

/**
 * Verbs that only inspect or convert and need no plugin's code: they import no plugin package (the
 * project's list and `use` packages are read from their package.json declarations) unless --trust is
 * given. help is not one (it lists the verbs the project's plugins add), nor is data preview (a
 * plugin's dataset format converts the rows).
 */
const readOnlyVerbs = new Set(["check", "fmt", "plugins", "import", "models", "runs", "--version", "-v"]);

/** `builtins` replaces the plugins lft ships (tests run against a known set). */
export async function main(argv: readonly string[], io: CommandIO, options: { builtins?: readonly Plugin[] } = {}): Promise<number> {
  // `lft --trust` is the REPL, whose :check may then import use packages.
  const mode = argv.length === 0 || (argv.length === 1 && argv[0] === "--trust") ? "repl" : "cli";
  const trusted = argv.includes("--trust");
  const pluginMode = mode === "cli" && readOnlyVerbs.has(argv[0]!) && !trusted ? "declare" : "import";
  const builtins = options.builtins === undefined ? {} : { builtins: options.builtins };
  const { session, problems } = await openSession({ mode, io, core: lftPlugin, pluginMode, trusted, ...builtins });
  if (problems.length > 0) io.stderr(formatDiagnostics(problems, new Map()));
  const [first, ...rest] = mode === "repl" ? [] : argv;
  if (first === undefined) {
    const { startRepl } = await import("./repl/repl");
    return startRepl(session);
  }
  if (first === "--help" || first === "-h") return run("help", [], session);
  if (first === "--version" || first === "-v") {
    io.stdout(`lft ${lftPlugin.version}\n`);
    return ExitCode.ok;
  }
  if (first.endsWith(".lft")) return run("run", argv, session);
  if (session.registry.has("commands", first) && session.registry.get("commands", first)._unsafeUnwrap().scope !== "repl") {
    return run(first, rest, session);
  }
  if (plannedVerbs.includes(first)) {
    io.stderr(`lft ${first} is not available: no loaded plugin provides that verb yet (see lft plugins)\n`);
    return ExitCode.notAvailable;
  }
  const verbs = cliVerbs(session.registry).map((v) => v.name);
  io.stderr(`lft: unknown verb "${first}"${didYouMean(suggest(first, verbs))}; verbs: ${verbs.join(", ")} (or a .lft recipe to run)\n`);
  return ExitCode.usage;

  async function run(verb: string, args: readonly string[], s: typeof session): Promise<number> {
    const entry = s.registry.get("commands", verb)._unsafeUnwrap();
    // `lft <verb> --help` is the verb's usage, for every verb (plugins' too), before its own argument parsing.
    if (args[0] === "--help" || args[0] === "-h") {
      io.stdout(verbHelp(entry));
      return ExitCode.ok;
    }
    try {
      return await entry.run(args, io, s);
    } catch (cause) {
      // A verb that throws is a bug in that verb (user errors are statuses): name it, keep the stack short.
      const owner = s.registry.ownerOf("commands", verb) ?? "?";
      io.stderr(`lft ${verb} (plugin "${owner}") failed unexpectedly: ${cause instanceof Error ? cause.message : String(cause)}\n`);
      return ExitCode.runFailed;
    }
  }
}

export const processIO: CommandIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  cwd: process.cwd(),
};

/** Runs `lft` as this process: the status becomes the exit code. */
export async function runProcess(argv: readonly string[], options: { builtins?: readonly Plugin[] } = {}): Promise<void> {
  useCpuBackendByDefault();
  process.exitCode = await main(argv, processIO, options);
}

if (import.meta.main) await runProcess(process.argv.slice(2));
