// Runs event hooks with the semantics of their declared kind, in registration order, and turns
// whatever a hook throws into a HookError naming the plugin and the hook.

import { err, ok, type Result } from "neverthrow";
import type { HookArgs, HookKind, HookMap, HookNamesOfKind, HookResult, HookValue } from "./hooks";
import { unknownNameTail } from "./suggest";

export type HookErrorReason =
  /** A hook threw, rejected, or (reduce) returned nothing. */
  | "failed"
  /** The hook was called with a kind other than the one it was declared with. */
  | "wrong-kind"
  /** No hook of that name was declared. */
  | "undeclared";

export class HookError extends Error {
  override readonly name = "HookError";
  constructor(
    readonly reason: HookErrorReason,
    readonly hook: string,
    /** The plugin whose hook failed; absent when no hook ran. */
    readonly plugin: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// Stored with types erased: the typed `on`/`call*` signatures guarantee the arguments match.
type ErasedHookFn = (...args: never[]) => unknown;
interface Handler {
  readonly plugin: string;
  readonly fn: ErasedHookFn;
}

export class HookBus<H extends HookMap<H>> {
  readonly #kinds = new Map<string, HookKind>();
  readonly #handlers = new Map<string, Handler[]>();

  constructor(kinds: { readonly [hook: string]: HookKind | undefined }) {
    for (const [name, kind] of Object.entries(kinds)) {
      if (kind !== undefined) this.#kinds.set(name, kind);
    }
  }

  /** Returns false when the hook already existed with this kind; throws when the kinds disagree. */
  declare(hook: string, kind: HookKind): boolean {
    const existing = this.#kinds.get(hook);
    if (existing === kind) return false;
    if (existing !== undefined) {
      throw new Error(`hook ${hook} is already declared as ${existing}, cannot redeclare it as ${kind}`);
    }
    this.#kinds.set(hook, kind);
    return true;
  }

  /** Rollback of a failed plugin's `declare`; only valid while nothing is registered on it. */
  undeclare(hook: string): void {
    if ((this.#handlers.get(hook)?.length ?? 0) === 0) this.#kinds.delete(hook);
  }

  kindOf(hook: string): HookKind | undefined {
    return this.#kinds.get(hook);
  }

  /** Registers `fn` on `hook` for `plugin`; the returned function removes exactly this registration. */
  add(hook: string, plugin: string, fn: ErasedHookFn): () => void {
    if (!this.#kinds.has(hook)) {
      throw new Error(`hook ${hook} is not declared${unknownNameTail(hook, this.#kinds.keys(), "known hooks")}`);
    }
    const handler: Handler = { plugin, fn };
    const list = this.#handlers.get(hook) ?? [];
    list.push(handler);
    this.#handlers.set(hook, list);
    return () => {
      const current = this.#handlers.get(hook);
      const at = current?.indexOf(handler) ?? -1;
      if (current !== undefined && at >= 0) current.splice(at, 1);
    };
  }

  /** Hook names `plugin` currently has handlers on, in declaration order. */
  hooksOf(plugin: string): string[] {
    return [...this.#handlers].filter(([, list]) => list.some((h) => h.plugin === plugin)).map(([name]) => name);
  }

  async callSequential<N extends HookNamesOfKind<H, "sequential">>(hook: N, ...args: HookArgs<H[N]>): Promise<Result<void, HookError>> {
    const handlers = this.#begin(hook, "sequential", "callSequential");
    if (handlers.isErr()) return err(handlers.error);
    for (const handler of handlers.value) {
      const result = await invoke(handler, hook, args);
      if (result.isErr()) return err(result.error);
    }
    return ok(undefined);
  }

  async callParallel<N extends HookNamesOfKind<H, "parallel">>(hook: N, ...args: HookArgs<H[N]>): Promise<Result<void, HookError>> {
    const handlers = this.#begin(hook, "parallel", "callParallel");
    if (handlers.isErr()) return err(handlers.error);
    // invoke never rejects, so every hook settles and none is left running unobserved.
    const results = await Promise.all(handlers.value.map((handler) => invoke(handler, hook, args)));
    const failures: HookError[] = [];
    for (const result of results) if (result.isErr()) failures.push(result.error);
    const [first, ...others] = failures;
    if (first === undefined) return ok(undefined);
    if (others.length === 0) return err(first);
    const also = others.map((e) => `"${e.plugin}"`).join(", ");
    return err(new HookError("failed", hook, first.plugin, `${first.message} (also failed: ${also})`, { cause: first.cause }));
  }

  async callFirst<N extends HookNamesOfKind<H, "first">>(hook: N, ...args: HookArgs<H[N]>): Promise<Result<HookResult<H[N]> | undefined, HookError>> {
    const handlers = this.#begin(hook, "first", "callFirst");
    if (handlers.isErr()) return err(handlers.error);
    for (const handler of handlers.value) {
      const result = await invoke(handler, hook, args);
      if (result.isErr()) return err(result.error);
      // The declared return type of a `first` hook is HookResult<H[N]> | undefined.
      if (result.value !== undefined) return ok(result.value as HookResult<H[N]>);
    }
    return ok(undefined);
  }

  async callReduce<N extends HookNamesOfKind<H, "reduce">>(
    hook: N,
    initial: HookValue<H[N]>,
    ...args: HookArgs<H[N]>
  ): Promise<Result<HookValue<H[N]>, HookError>> {
    const handlers = this.#begin(hook, "reduce", "callReduce");
    if (handlers.isErr()) return err(handlers.error);
    let value: unknown = initial;
    for (const handler of handlers.value) {
      const result = await invoke(handler, hook, [value, ...args]);
      if (result.isErr()) return err(result.error);
      // A reducer that forgets its `return` would silently replace the value with undefined.
      if (result.value === undefined) {
        const message = `plugin "${handler.plugin}" failed in hook ${hook}: returned undefined; a reduce hook must return the (possibly unchanged) value`;
        return err(new HookError("failed", hook, handler.plugin, message));
      }
      value = result.value;
    }
    // Each reducer is typed to return HookValue<H[N]>; checked above that it returned something.
    return ok(value as HookValue<H[N]>);
  }

  /** The handlers to run (a snapshot, so a hook that unregisters itself does not skip its neighbour). */
  #begin(hook: string, kind: HookKind, call: string): Result<readonly Handler[], HookError> {
    const declared = this.#kinds.get(hook);
    if (declared === undefined) {
      const message = `hook ${hook} is not declared${unknownNameTail(hook, this.#kinds.keys(), "known hooks")}`;
      return err(new HookError("undeclared", hook, undefined, message));
    }
    if (declared !== kind) {
      const message = `hook ${hook} is declared ${declared} and must be called with ${callOf[declared]}, not ${call}`;
      return err(new HookError("wrong-kind", hook, undefined, message));
    }
    return ok([...(this.#handlers.get(hook) ?? [])]);
  }
}

const callOf: { readonly [K in HookKind]: string } = { sequential: "callSequential", parallel: "callParallel", first: "callFirst", reduce: "callReduce" };

async function invoke(handler: Handler, hook: string, args: readonly unknown[]): Promise<Result<unknown, HookError>> {
  try {
    const returned: unknown = await Reflect.apply(handler.fn, undefined, args);
    return ok(returned);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const message = `plugin "${handler.plugin}" failed in hook ${hook}: ${detail}`;
    return err(new HookError("failed", hook, handler.plugin, message, { cause }));
  }
}
