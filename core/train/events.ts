// Run events go two ways: through the registry's hooks (plugins, with each hook's declared kind:
// onRunStart/onSave/onRunEnd sequential, onStep/onEval parallel) and to plain handler objects the
// caller passes (the run store, the progress bar). A failing handler becomes a TrainError naming it.
import { err, ok, type Result } from "neverthrow";
import type { EvalEvent, RunEndEvent, RunStartEvent, SaveEvent, StepEvent } from "../registry/hooks.ts";
import type { Registry } from "../registry/registry.ts";
import { TrainError } from "./errors.ts";

/** Handlers for the run events, under a name that error messages use. */
export interface RunHandlers {
  readonly name: string;
  onRunStart?(e: RunStartEvent): void | Promise<void>;
  onStep?(e: StepEvent): void | Promise<void>;
  onEval?(e: EvalEvent): void | Promise<void>;
  onSave?(e: SaveEvent): void | Promise<void>;
  onRunEnd?(e: RunEndEvent): void | Promise<void>;
}

/** The part of a Registry the loop calls (so tests can pass any registry with the built-in hooks). */
export type HookHost = Pick<Registry, "callSequential" | "callParallel">;

type Seq = "onRunStart" | "onSave" | "onRunEnd";
type Par = "onStep" | "onEval";
interface Payload {
  onRunStart: RunStartEvent;
  onStep: StepEvent;
  onEval: EvalEvent;
  onSave: SaveEvent;
  onRunEnd: RunEndEvent;
}

export class RunEvents {
  constructor(
    private readonly hooks: HookHost | undefined,
    private readonly handlers: readonly RunHandlers[],
  ) {}

  async sequential<K extends Seq>(hook: K, e: Payload[K], step: number): Promise<Result<void, TrainError>> {
    if (this.hooks) {
      // The overloads of callSequential are per hook name; K is one of the sequential ones.
      const r = await (this.hooks.callSequential as (h: Seq, ev: Payload[Seq]) => ReturnType<HookHost["callSequential"]>)(hook, e);
      if (r.isErr()) return err(new TrainError("hook", r.error.message, step, { cause: r.error }));
    }
    for (const h of this.handlers) {
      const r = await invoke(h, hook, e, step);
      if (r.isErr()) return r;
    }
    return ok(undefined);
  }

  async parallel<K extends Par>(hook: K, e: Payload[K], step: number): Promise<Result<void, TrainError>> {
    const fromHooks = this.hooks
      ? (this.hooks.callParallel as (h: Par, ev: Payload[Par]) => ReturnType<HookHost["callParallel"]>)(hook, e).then((r) =>
          r.isErr() ? err<void, TrainError>(new TrainError("hook", r.error.message, step, { cause: r.error })) : ok<void, TrainError>(undefined),
        )
      : Promise.resolve(ok<void, TrainError>(undefined));
    const results = await Promise.all([fromHooks, ...this.handlers.map((h) => invoke(h, hook, e, step))]);
    return results.find((r) => r.isErr()) ?? ok(undefined);
  }
}

async function invoke<K extends keyof Payload>(h: RunHandlers, hook: K, e: Payload[K], step: number): Promise<Result<void, TrainError>> {
  const fn = h[hook] as ((ev: Payload[K]) => void | Promise<void>) | undefined;
  if (!fn) return ok(undefined);
  try {
    await fn.call(h, e);
    return ok(undefined);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return err(new TrainError("hook", `handler "${h.name}" failed in ${hook}: ${detail}`, step, { cause }));
  }
}
