// Event hook declarations: each hook has a kind that fixes how the host calls it (rollup's
// PluginDriver), and a payload type. Later modules declare new hooks by merging into `HookTypes`
// and calling `api.declareHook(name, kind)` so the run-time check knows the kind too.

/** How the hooks registered on one name are run. */
export type HookKind = "sequential" | "parallel" | "first" | "reduce";

/** Run one after another in registration order; each is awaited before the next starts. */
export interface SequentialHook<A extends unknown[]> {
  readonly kind: "sequential";
  readonly args: A;
}
/** Started together; the call settles when all have. For observers that do not depend on each other. */
export interface ParallelHook<A extends unknown[]> {
  readonly kind: "parallel";
  readonly args: A;
}
/** Run in order until one returns something other than undefined; that result wins. */
export interface FirstHook<A extends unknown[], R> {
  readonly kind: "first";
  readonly args: A;
  readonly result: R;
}
/** Each hook receives the previous hook's value (the first gets the initial one) and returns the next. */
export interface ReduceHook<V, A extends unknown[] = []> {
  readonly kind: "reduce";
  readonly value: V;
  readonly args: A;
}

export type HookDescriptor = SequentialHook<unknown[]> | ParallelHook<unknown[]> | FirstHook<unknown[], unknown> | ReduceHook<unknown, unknown[]>;

/** Any hook map a registry can host. */
export type HookMap<H> = { readonly [K in keyof H]: HookDescriptor };
export type HookName<H> = keyof H & string;
/** Names of the hooks declared with kind `K`: what each `call*` accepts. */
export type HookNamesOfKind<H, K extends HookKind> = {
  [N in keyof H]: H[N] extends { readonly kind: K } ? N : never;
}[keyof H] &
  string;

export type HookArgs<D> = D extends { readonly args: infer A extends unknown[] } ? A : never;
export type HookResult<D> = D extends FirstHook<unknown[], infer R> ? R : never;
export type HookValue<D> = D extends ReduceHook<infer V, unknown[]> ? V : never;

/** The function a plugin registers for a hook; sync or async alike. */
export type HookFn<D> =
  D extends FirstHook<infer A, infer R>
    ? (...args: A) => R | undefined | Promise<R | undefined>
    : D extends ReduceHook<infer V, infer A>
      ? (value: V, ...args: A) => V | Promise<V>
      : D extends { readonly args: infer A extends unknown[] }
        ? (...args: A) => void | Promise<void>
        : never;

// ---- Payloads of the built-in run events ----

export interface RunStartEvent {
  readonly runId: string;
  /** Recipe file the run came from, when there is one (the REPL has none). */
  readonly recipe?: string;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
  /** Planned optimizer steps, when known up front. */
  readonly totalSteps?: number;
  /** Resuming from a checkpoint starts at this step instead of 0. */
  readonly resumedFromStep?: number;
}

export interface StepEvent {
  readonly runId: string;
  /** Optimizer step just completed, counting from 1. */
  readonly step: number;
  readonly epoch?: number;
  /** Mean loss over the step's (accumulated) micro-batches. */
  readonly loss: number;
  /** Learning rate used for this step. */
  readonly lr: number;
  /** Tokens processed in this step (not cumulative), so throughput is tokens / step time. */
  readonly tokens: number;
  /** Since the run started. */
  readonly elapsedMs: number;
  /** Global gradient norm before clipping, when clipping computed it. */
  readonly gradNorm?: number;
  /** The stage's own metrics (e.g. `rewards/margins`), averaged over the step's micro-batches. */
  readonly metrics?: Readonly<Record<string, number>>;
}

export interface EvalEvent {
  readonly runId: string;
  readonly step: number;
  /** Name of the evaluation split or dataset. */
  readonly split: string;
  /** Metric name → value; `loss` is present when the stage defines one. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
}

export interface SaveEvent {
  readonly runId: string;
  readonly step: number;
  /** Directory written (already renamed into place: saves are atomic). */
  readonly path: string;
  readonly kind: "checkpoint" | "adapter" | "model";
}

export interface RunEndEvent {
  readonly runId: string;
  readonly status: "completed" | "failed" | "interrupted";
  /** Last completed step. */
  readonly step: number;
  readonly elapsedMs: number;
  /** Present when status is "failed". */
  readonly error?: Error;
  /** Why a completed run stopped before its last step (early stopping). */
  readonly stopReason?: string;
}

/** Hook name → descriptor. Augment to declare a hook; see the file header. */
export interface HookTypes {
  onRunStart: SequentialHook<[RunStartEvent]>;
  onStep: ParallelHook<[StepEvent]>;
  onEval: ParallelHook<[EvalEvent]>;
  onSave: SequentialHook<[SaveEvent]>;
  onRunEnd: SequentialHook<[RunEndEvent]>;
}

type BuiltinHook = "onRunStart" | "onStep" | "onEval" | "onSave" | "onRunEnd";

/** Run-time mirror of the built-in kinds; types are erased, so `call*` checks against this. */
export const builtinHookKinds: { readonly [N in BuiltinHook]: HookTypes[N]["kind"] } = {
  onRunStart: "sequential",
  onStep: "parallel",
  onEval: "parallel",
  onSave: "sequential",
  onRunEnd: "sequential",
};
