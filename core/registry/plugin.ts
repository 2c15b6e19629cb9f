// definePlugin, the only way into a registry: a named object whose setup(api) registers entries and
// hooks. The brand lets a loader tell a plugin from any other export, even across copies of lft.

import type { CollectionMap, CollectionName, CollectionTypes } from "./collections";
import type { HookFn, HookMap, HookName, HookTypes } from "./hooks";

// Symbol.for, not Symbol(): a plugin package may bundle its own copy of lft's core, and its
// plugins must still be recognised by the host's copy.
export const PLUGIN_BRAND: unique symbol = Symbol.for("lft.plugin");

/** One typed `register.<collection>(entry)` per collection. */
export type Registrars<C> = { readonly [K in CollectionName<C>]: (entry: C[K]) => void };

export interface PluginApi<C = CollectionTypes, H extends HookMap<H> = HookTypes> {
  /** The name of the plugin being set up. */
  readonly plugin: string;
  /** Throws on a duplicate name or a malformed entry; `use` then rolls the whole plugin back. */
  readonly register: Registrars<C>;
  /** Hooks run in registration order; the returned function removes this one registration. */
  on<N extends HookName<H>>(hook: N, fn: HookFn<H[N]>): () => void;
  /**
   * Make a hook (merged into the hook types by declaration merging) callable at run time with its
   * kind. Declaring an existing hook with the same kind is a no-op, with another kind an error.
   */
  declareHook<N extends HookName<H>>(hook: N, kind: H[N]["kind"]): void;
}

export interface PluginDefinition<C = CollectionTypes, H extends HookMap<H> = HookTypes> {
  /** Unique among loaded plugins; for a package, usually the package name. */
  readonly name: string;
  readonly version?: string;
  /**
   * Synchronous, so that everything a plugin registers is known (and validated) when `use`
   * returns; work that needs I/O belongs in the entries' own functions or in hooks.
   */
  setup(api: PluginApi<C, H>): void;
}

export interface Plugin<C = CollectionTypes, H extends HookMap<H> = HookTypes> extends PluginDefinition<C, H> {
  readonly [PLUGIN_BRAND]: true;
}

export function definePlugin<C extends CollectionMap<C> = CollectionTypes, H extends HookMap<H> = HookTypes>(definition: PluginDefinition<C, H>): Plugin<C, H> {
  return Object.freeze({ ...definition, [PLUGIN_BRAND]: true as const });
}

/** Made by some copy of definePlugin; name and setup are still checked by `Registry.use`. */
export function isPlugin(value: unknown): value is { readonly [PLUGIN_BRAND]: true } {
  return (typeof value === "object" || typeof value === "function") && value !== null && (value as { [PLUGIN_BRAND]?: unknown })[PLUGIN_BRAND] === true;
}

export type PluginErrorReason =
  /** loadPluginPackage: the specifier resolves to nothing. */
  | "not-found"
  /** loadPluginPackage: the module was found but evaluating it threw. */
  | "import-failed"
  /** loadPluginPackage: neither a default export nor an export named `plugin`. */
  | "no-export"
  /** The export is not something definePlugin made. */
  | "not-a-plugin"
  /** Branded, but with a missing name or setup. */
  | "invalid"
  /** A plugin of that name is already in the registry. */
  | "duplicate"
  /** setup threw (a duplicate entry name, a bad schema, ...); everything it registered was removed. */
  | "setup-failed";

export class PluginError extends Error {
  override readonly name = "PluginError";
  readonly reason: PluginErrorReason;
  /** The plugin's name, when known. */
  readonly plugin: string | undefined;
  /** The package name or path it was loaded from, when it came through loadPluginPackage. */
  readonly specifier: string | undefined;

  constructor(reason: PluginErrorReason, message: string, where: { plugin?: string | undefined; specifier?: string | undefined; cause?: unknown } = {}) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.reason = reason;
    this.plugin = where.plugin;
    this.specifier = where.specifier;
  }
}
