// The registry: named collections of entries plus the event hooks, filled only through plugins.
// One instance per session rather than a global, so tests and REPL sessions never share state.

import { err, ok, type Result } from "neverthrow";
import { builtinCollections, type CollectionMap, type CollectionName, type CollectionNouns, type CollectionTypes, type EntryBase } from "./collections";
import { HookBus, type HookError } from "./hook-bus";
import {
  builtinHookKinds,
  type HookArgs,
  type HookKind,
  type HookMap,
  type HookName,
  type HookNamesOfKind,
  type HookResult,
  type HookTypes,
  type HookValue,
} from "./hooks";
import { importPlugin } from "./load";
import { schemaProblems } from "./options";
import { PLUGIN_BRAND, type Plugin, type PluginApi, PluginError, type Registrars } from "./plugin";
import { suggest, unknownNameTail } from "./suggest";

declare module "./collections" {
  interface CommandSession {
    /** The session's registry: every plugin's entries and hooks. */
    readonly registry: Registry;
  }
}

export class LookupError extends Error {
  override readonly name = "LookupError";
  constructor(
    readonly collection: string,
    readonly requested: string,
    /** Closest known names, best first; may be empty. */
    readonly suggestions: readonly string[],
    /** Every name in the collection, sorted. */
    readonly known: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** What `lft plugins` shows for one plugin. */
export interface PluginInfo<C = CollectionTypes> {
  readonly name: string;
  readonly version: string | undefined;
  /** The module it was imported from, when it came through loadPluginPackage. */
  readonly source: string | undefined;
  /** Names it registered, per collection (only collections it registered into), sorted. */
  readonly registered: { readonly [K in CollectionName<C>]?: readonly string[] };
  /** Hooks it currently has handlers on. */
  readonly hooks: readonly string[];
}

export interface RegistrySpec<C, H> {
  /** Every collection the registry hosts, with the noun messages use for one entry. */
  readonly collections: CollectionNouns<C>;
  /** Kinds of hooks known up front; plugins may add more with `api.declareHook`. */
  readonly hooks?: { readonly [N in HookName<H>]?: HookKind };
}

interface Stored {
  readonly entry: EntryBase;
  readonly plugin: string;
}
interface Loaded {
  readonly name: string;
  readonly version: string | undefined;
  readonly source: string | undefined;
}
type ErasedHookFn = (...args: never[]) => unknown;
const hookKinds: readonly string[] = ["sequential", "parallel", "first", "reduce"] satisfies HookKind[];

export class Registry<C extends CollectionMap<C> = CollectionTypes, H extends HookMap<H> = HookTypes> {
  readonly #nouns: Readonly<Record<string, string>>;
  readonly #entries = new Map<string, Map<string, Stored>>();
  /** In load order, which is also the order `plugins()` reports. */
  readonly #plugins = new Map<string, Loaded>();
  readonly #bus: HookBus<H>;

  constructor(spec: RegistrySpec<C, H>) {
    this.#nouns = spec.collections;
    for (const collection of Object.keys(spec.collections)) this.#entries.set(collection, new Map());
    this.#bus = new HookBus<H>(spec.hooks ?? {});
  }

  /**
   * Run a plugin's setup. If setup throws, everything the plugin registered is removed again, so a
   * failed plugin leaves the registry exactly as it was.
   */
  use(plugin: Plugin<C, H>, source?: string): Result<PluginInfo<C>, PluginError> {
    const { name, version, setup } = plugin as { name?: unknown; version?: unknown; setup?: unknown };
    if (plugin[PLUGIN_BRAND] !== true || typeof name !== "string" || name.trim() === "" || typeof setup !== "function") {
      const what = typeof name === "string" && name !== "" ? `plugin "${name}"` : "a plugin";
      return err(
        new PluginError("invalid", `${what} must be made by definePlugin with a non-empty name and a setup function`, {
          plugin: typeof name === "string" ? name : undefined,
        }),
      );
    }
    if (version !== undefined && typeof version !== "string") {
      return err(new PluginError("invalid", `plugin "${name}" has a version that is not a string`, { plugin: name }));
    }
    const existing = this.#plugins.get(name);
    if (existing !== undefined) {
      const from = existing.source === undefined ? "" : ` from ${existing.source}`;
      return err(new PluginError("duplicate", `plugin "${name}" is already loaded (version ${existing.version ?? "unknown"}${from})`, { plugin: name }));
    }

    const undo: (() => void)[] = [];
    let phase: "setup" | "live" | "dead" = "setup";
    const register = Object.fromEntries(
      Object.keys(this.#nouns).map((collection) => [
        collection,
        (entry: EntryBase): void => {
          if (phase !== "setup") throw new Error(`plugin "${name}" registered into ${collection} after its setup returned; register only inside setup`);
          undo.push(this.#add(collection, entry, name));
        },
      ]),
    );
    const api = {
      plugin: name,
      // Built from the run-time collection list, which the spec ties to keyof C; each function
      // accepts any EntryBase, and every C[K] is one.
      register: register as unknown as Registrars<C>,
      on: (hook: string, fn: ErasedHookFn): (() => void) => {
        if (phase === "dead") throw new Error(`plugin "${name}" failed its setup and cannot add hooks`);
        const off = this.#bus.add(hook, name, fn);
        if (phase === "setup") undo.push(off);
        return off;
      },
      declareHook: (hook: string, kind: HookKind): void => {
        if (phase !== "setup") throw new Error(`plugin "${name}" declared hook ${hook} after its setup returned`);
        if (!hookKinds.includes(kind)) throw new Error(`hook ${hook}: unknown kind "${String(kind)}"; kinds are ${hookKinds.join(", ")}`);
        if (this.#bus.declare(hook, kind)) undo.push(() => this.#bus.undeclare(hook));
      },
    } satisfies Omit<PluginApi<C, H>, "on" | "declareHook"> & Record<"on" | "declareHook", unknown>;

    try {
      const returned: unknown = Reflect.apply(setup, plugin, [api]);
      if (isThenable(returned)) {
        // Still observe the promise: its rejection is reported here, not as an unhandled one.
        returned.then(undefined, () => undefined);
        throw new Error("setup returned a promise; setup must be synchronous (do async work in entries or hooks)");
      }
    } catch (cause) {
      phase = "dead";
      for (const step of undo.reverse()) step();
      const detail = cause instanceof Error ? cause.message : String(cause);
      return err(new PluginError("setup-failed", `plugin "${name}" failed in setup: ${detail}`, { plugin: name, cause }));
    }
    phase = "live";
    this.#plugins.set(name, { name, version, source });
    return ok(this.#info(this.#plugins.get(name)!));
  }

  /**
   * Import a plugin package (npm name or path, resolved from `from`, default the working
   * directory) and `use` its default export or its export named `plugin`.
   */
  async loadPluginPackage(specifier: string, options: { readonly from?: string } = {}): Promise<Result<PluginInfo<C>, PluginError>> {
    const imported = await importPlugin(specifier, options.from ?? process.cwd());
    if (imported.isErr()) return err(imported.error);
    // The brand says definePlugin made it; `use` checks its name and setup at run time. Whether it
    // was written against these collection and hook types cannot be checked once types are erased.
    return this.use(imported.value.plugin as Plugin<C, H>, imported.value.resolved);
  }

  get<K extends CollectionName<C>>(collection: K, name: string): Result<C[K], LookupError> {
    const entries = this.#entries.get(collection);
    if (entries === undefined) {
      const known = Object.keys(this.#nouns);
      const message = `unknown collection "${collection}"${unknownNameTail(collection, known, "collections")}`;
      return err(new LookupError(collection, name, [], [], message));
    }
    const stored = entries.get(name);
    // Entries only enter a collection through register[collection], typed as C[K].
    if (stored !== undefined) return ok(stored.entry as C[K]);
    const known = [...entries.keys()].sort();
    const suggestions = suggest(name, known);
    const noun = this.#nouns[collection] ?? collection;
    const message =
      known.length === 0
        ? `unknown ${noun} "${name}": no ${collection} are registered`
        : `unknown ${noun} "${name}"${unknownNameTail(name, known, `known ${collection}`)}`;
    return err(new LookupError(collection, name, suggestions, known, message));
  }

  has(collection: CollectionName<C>, name: string): boolean {
    return this.#entries.get(collection)?.has(name) ?? false;
  }

  /** Entries of one collection sorted by name, so listings and docs are stable. */
  list<K extends CollectionName<C>>(collection: K): C[K][] {
    const entries = [...(this.#entries.get(collection)?.values() ?? [])].map((s) => s.entry);
    // Same invariant as in `get`.
    return (entries as C[K][]).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Name of the plugin that registered an entry. */
  ownerOf(collection: CollectionName<C>, name: string): string | undefined {
    return this.#entries.get(collection)?.get(name)?.plugin;
  }

  collections(): CollectionName<C>[] {
    // The spec's keys are exactly CollectionName<C> (RegistrySpec requires one noun per collection).
    return Object.keys(this.#nouns) as CollectionName<C>[];
  }

  /** Loaded plugins in load order, with what each registered. */
  plugins(): PluginInfo<C>[] {
    return [...this.#plugins.values()].map((loaded) => this.#info(loaded));
  }

  callSequential<N extends HookNamesOfKind<H, "sequential">>(hook: N, ...args: HookArgs<H[N]>): Promise<Result<void, HookError>> {
    return this.#bus.callSequential(hook, ...args);
  }

  callParallel<N extends HookNamesOfKind<H, "parallel">>(hook: N, ...args: HookArgs<H[N]>): Promise<Result<void, HookError>> {
    return this.#bus.callParallel(hook, ...args);
  }

  callFirst<N extends HookNamesOfKind<H, "first">>(hook: N, ...args: HookArgs<H[N]>): Promise<Result<HookResult<H[N]> | undefined, HookError>> {
    return this.#bus.callFirst(hook, ...args);
  }

  callReduce<N extends HookNamesOfKind<H, "reduce">>(hook: N, initial: HookValue<H[N]>, ...args: HookArgs<H[N]>): Promise<Result<HookValue<H[N]>, HookError>> {
    return this.#bus.callReduce(hook, initial, ...args);
  }

  /** Stores an entry and returns how to remove it again (for rollback). Throws on any problem. */
  #add(collection: string, entry: EntryBase, plugin: string): () => void {
    const noun = this.#nouns[collection] ?? collection;
    if (typeof entry !== "object" || entry === null) throw new Error(`${collection} entries must be objects with a name`);
    const { name } = entry;
    if (typeof name !== "string" || name === "" || name.trim() !== name) {
      throw new Error(`${noun} name must be a non-empty string without surrounding spaces, found ${JSON.stringify(name)}`);
    }
    if (entry.options !== undefined) {
      const problems = schemaProblems(entry.options);
      if (problems.length > 0) throw new Error(`${noun} "${name}" has a bad options schema: ${problems.join("; ")}`);
    }
    const entries = this.#entries.get(collection)!;
    const clash = entries.get(name);
    if (clash !== undefined) {
      throw new Error(`${noun} "${name}" is registered twice: first by plugin "${clash.plugin}", again by plugin "${plugin}"`);
    }
    const stored: Stored = { entry, plugin };
    entries.set(name, stored);
    return () => {
      if (entries.get(name) === stored) entries.delete(name);
    };
  }

  #info(loaded: Loaded): PluginInfo<C> {
    const registered: { [K in CollectionName<C>]?: string[] } = {};
    for (const collection of this.collections()) {
      const stored = [...(this.#entries.get(collection)?.values() ?? [])];
      const names = stored.filter((s) => s.plugin === loaded.name).map((s) => s.entry.name);
      if (names.length > 0) registered[collection] = names.sort();
    }
    return { ...loaded, registered, hooks: this.#bus.hooksOf(loaded.name) };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/** A registry hosting the built-in collections and hooks. */
export function createRegistry(): Registry<CollectionTypes, HookTypes>;
/** A registry for custom collection and hook maps (tests, or collections added by augmentation). */
export function createRegistry<C extends CollectionMap<C>, H extends HookMap<H>>(spec: RegistrySpec<C, H>): Registry<C, H>;
export function createRegistry<C extends CollectionMap<C>, H extends HookMap<H>>(
  spec?: RegistrySpec<C, H>,
): Registry<C, H> | Registry<CollectionTypes, HookTypes> {
  return spec === undefined ? new Registry<CollectionTypes, HookTypes>({ collections: builtinCollections, hooks: builtinHookKinds }) : new Registry(spec);
}
