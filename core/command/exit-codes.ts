// Exit statuses of `lft`, one meaning each, so scripts can tell a broken recipe from a missing plugin.
// Part of the command contract (a CommandEntry's run returns one). README's "Exit codes" section is this table.

export const ExitCode = {
  /** Done: the recipe is valid (check), formatted (fmt), imported, run. */
  ok: 0,
  /** The recipe (or imported config) has syntax or semantic errors; they are printed with file:line:col. */
  recipeError: 1,
  /** The command line is wrong: unknown verb or flag, missing argument, malformed --set. */
  usage: 2,
  /** The recipe is valid but needs something no loaded plugin provides (a method, stage, family, or a runner). */
  notAvailable: 3,
  /** A plugin package failed to load, or registered a name another plugin already has. */
  pluginError: 4,
  /** A file could not be read or written. */
  ioError: 5,
  /** The run started and failed. */
  runFailed: 6,
  /** `lft fmt --check`: the file is not in canonical form. */
  notFormatted: 7,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One line per code, for `lft help exit-codes` and the README. */
export const exitCodeDocs: readonly (readonly [ExitCode, string])[] = [
  [ExitCode.ok, "success"],
  [ExitCode.recipeError, "the recipe has syntax or semantic errors (printed as file:line:col: message)"],
  [ExitCode.usage, "bad command line: unknown verb or flag, missing argument, malformed --set"],
  [ExitCode.notAvailable, "valid, but a method, stage, family, template or runner it needs is not provided by any loaded plugin"],
  [ExitCode.pluginError, "a plugin package failed to load or registered a duplicate name"],
  [ExitCode.ioError, "a file could not be read or written"],
  [ExitCode.runFailed, "the run started and failed"],
  [ExitCode.notFormatted, "lft fmt --check: the file is not in canonical form"],
  [ExitCode.interrupted, "interrupted (Ctrl-C)"],
];
