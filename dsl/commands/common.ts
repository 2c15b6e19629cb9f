// Helpers the verbs share: printing diagnostics, reaching the DSL session behind a CommandSession,
// and wrapping argument errors as usage errors.

import type { CommandIO, CommandSession, Registry } from "../../core/index.ts";
import { type ArgSpec, type Args, parseArgs } from "../args";
import { type Diagnostic, formatDiagnostics } from "../diagnostics";
import { ExitCode } from "../exit-codes";
import type { PluginMode } from "../plugins";

/** Writes the diagnostics (with source lines) to stderr. */
export function report(io: CommandIO, diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>): void {
  const text = formatDiagnostics(diagnostics, sources);
  if (text !== "") io.stderr(text);
}

/** The live-state map of a DSL session; a fresh one when a plugin calls a verb with its own session. */
export function liveOf(session: CommandSession): Map<string, unknown> {
  const live = (session as { live?: unknown }).live;
  return live instanceof Map ? (live as Map<string, unknown>) : new Map();
}

export function signalOf(session: CommandSession): AbortSignal {
  const controller = (session as { controller?: unknown }).controller;
  return controller instanceof AbortController ? controller.signal : new AbortController().signal;
}

/**
 * The registry and plugin mode of a read-only verb (check, plugins): with --trust (on the verb, or the
 * REPL started with it) the session's registry, importing `use` packages; otherwise declarations
 * only, in a scratch registry inside the REPL so they never mix with the plugins it imported.
 */
export async function inspection(session: CommandSession, trustFlag: boolean): Promise<{ registry: Registry; mode: PluginMode }> {
  const dsl = session as { trusted?: unknown; declaredRegistry?: unknown };
  if (trustFlag || dsl.trusted === true) return { registry: session.registry, mode: "import" };
  if (session.mode === "repl" && typeof dsl.declaredRegistry === "function") {
    return { registry: await (dsl.declaredRegistry as () => Promise<Registry>)(), mode: "declare" };
  }
  return { registry: session.registry, mode: "declare" };
}

/** Parses a verb's arguments; on a mistake prints it with the verb's usage and gives the status. */
export function argsOrUsage(verb: string, usage: string, argv: readonly string[], spec: ArgSpec, io: CommandIO): Args | ExitCode {
  const parsed = parseArgs(argv, spec);
  if (parsed.isErr()) {
    io.stderr(`lft ${verb}: ${parsed.error}\nusage: lft ${verb} ${usage}\n`);
    return ExitCode.usage;
  }
  return parsed.value;
}
