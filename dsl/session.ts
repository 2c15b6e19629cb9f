// A session: one registry with lft's own plugin (the verbs and the runRecipe hook), the built-in
// plugins and the project's plugin packages, plus the live state a runner keeps between statements.
// The CLI opens one per invocation, the REPL one for its lifetime; nothing is global.

import { type CommandIO, type CommandSession, createRegistry, type Plugin, type Registry } from "../core/index.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { type Diagnostic, error } from "./diagnostics";
import { loadProjectPlugins, type PluginMode } from "./plugins";

export interface Session extends CommandSession {
  readonly registry: Registry;
  readonly mode: "cli" | "repl";
  readonly io: CommandIO;
  /** What a runner keeps between REPL statements (the loaded model, data, adapters). */
  readonly live: Map<string, unknown>;
  /** Aborted on Ctrl-C during a run. */
  controller: AbortController;
  /** --trust was given: read-only verbs (check, plugins, :check) may import plugin packages. */
  readonly trusted: boolean;
  /**
   * A fresh registry with the same built-ins and the project's plugins only declared: what an
   * untrusted `:check` in the REPL checks against, so declarations never mix with imported plugins.
   */
  readonly declaredRegistry: () => Promise<Registry>;
}

export interface OpenOptions {
  readonly mode: "cli" | "repl";
  readonly io: CommandIO;
  /** lft's own plugin (verbs, hooks); passed in so this file does not depend on every verb. */
  readonly core: Plugin;
  /** Defaults to the plugins lft ships (plugins/index.ts). */
  readonly builtins?: readonly Plugin[];
  /** Read package.json / bunfig.toml plugin lists from io.cwd (default true). */
  readonly projectPlugins?: boolean;
  /** How project plugins are loaded: "import" runs them (default), "declare" reads their package.json. */
  readonly pluginMode?: PluginMode;
  /** --trust was given (default false). */
  readonly trusted?: boolean;
}

/** The session, and problems loading its plugins (a built-in that fails is reported, not fatal). */
export async function openSession(options: OpenOptions): Promise<{ session: Session; problems: Diagnostic[] }> {
  const registry = createRegistry();
  const problems: Diagnostic[] = [];
  // lft's plugin goes first: it declares the runRecipe hook that runner plugins register on.
  for (const plugin of [options.core, ...(options.builtins ?? builtinPlugins)]) {
    const used = registry.use(plugin);
    if (used.isErr()) problems.push(error("plugin", "lft", undefined, used.error.message));
  }
  if (options.projectPlugins !== false) problems.push(...(await loadProjectPlugins(registry, options.io.cwd, options.pluginMode ?? "import")));
  const declaredRegistry = async (): Promise<Registry> => (await openSession({ ...options, pluginMode: "declare" })).session.registry;
  const session: Session = {
    registry,
    mode: options.mode,
    io: options.io,
    live: new Map(),
    controller: new AbortController(),
    trusted: options.trusted === true,
    declaredRegistry,
  };
  return { session, problems };
}
