// The fuzzer's harness: draws inputs for one class, tries each with a time bound, and tallies what
// happened by outcome. An input is accepted, or refused with a message that must say where (file:line,
// row, tensor); anything else — a throw, a slow input, an unlocated refusal, a wrong result taken as
// good, a file changed outside the sandbox — is a failure, kept with its seed, index and input so it
// can be replayed with LFT_FUZZ_SEED.
import { Gen } from "./random.ts";

export type Verdict =
  | { readonly outcome: "accepted" }
  | { readonly outcome: "refused"; readonly message: string }
  /** Accepted, but the result is wrong (e.g. a row that vanished without being counted). */
  | { readonly outcome: "silent"; readonly detail: string }
  /** A file outside the input's own output folder changed. */
  | { readonly outcome: "data-lost"; readonly detail: string };

export type FailureKind = "crash" | "hang" | "unlocated" | "silent" | "data-lost";

export interface Failure {
  readonly index: number;
  readonly kind: FailureKind;
  readonly detail: string;
  readonly input: string;
}

export interface Tally {
  readonly cls: string;
  readonly seed: number;
  inputs: number;
  accepted: number;
  refused: number;
  crashes: number;
  hangs: number;
  unlocated: number;
  silent: number;
  dataLost: number;
  slowestMs: number;
  readonly failures: Failure[];
}

export interface FuzzClass<T> {
  /** The class name: it seeds the streams and names the counts. */
  readonly name: string;
  make(gen: Gen, index: number): T;
  try(input: T, index: number): Verdict | Promise<Verdict>;
  /** Whether a refusal's message says where the problem is. */
  located(message: string, input: T): boolean;
  /** The input as text for a failure report (short). */
  show(input: T): string;
  /** A per-input bound other than HANG_MS (subprocess cases start a Bun process each). */
  readonly hangMs?: number;
}

/**
 * One input taking this long is a hang. A guard against loops and blow-ups, not a speed target: an input
 * normally takes about a millisecond, and a loaded 2-core machine must not turn a slow tick into a failure.
 */
export const HANG_MS = 5000;

/** Texts of JavaScript's own errors (stack overflow, a property of undefined, ...), never a user's message. */
const INTERNAL = /Maximum call stack|is not a function|is not an object|Cannot read propert|undefined is not|is not iterable|Out of memory/;

const clip = (text: string, n = 600): string => (text.length > n ? `${text.slice(0, n)}… (${text.length} chars)` : text);

export function newTally(cls: string, seed: number): Tally {
  return { cls, seed, inputs: 0, accepted: 0, refused: 0, crashes: 0, hangs: 0, unlocated: 0, silent: 0, dataLost: 0, slowestMs: 0, failures: [] };
}

function fail(t: Tally, index: number, kind: FailureKind, detail: string, input: string): void {
  if (kind === "crash") t.crashes++;
  else if (kind === "hang") t.hangs++;
  else if (kind === "unlocated") t.unlocated++;
  else if (kind === "silent") t.silent++;
  else t.dataLost++;
  t.failures.push({ index, kind, detail: clip(detail), input: clip(input) });
}

/** Tries `count` inputs of one class under `seed`. */
export async function fuzz<T>(cls: FuzzClass<T>, seed: number, count: number, first = 0): Promise<Tally> {
  const t = newTally(cls.name, seed);
  for (let i = first; i < first + count; i++) {
    const input = cls.make(Gen.forInput(seed, cls.name, i), i);
    const start = performance.now();
    let verdict: Verdict;
    try {
      verdict = await cls.try(input, i);
    } catch (cause) {
      t.inputs++;
      fail(t, i, "crash", cause instanceof Error ? `${cause.name}: ${cause.message}\n${cause.stack ?? ""}` : String(cause), cls.show(input));
      continue;
    }
    const ms = performance.now() - start;
    t.inputs++;
    t.slowestMs = Math.max(t.slowestMs, ms);
    const bound = cls.hangMs ?? HANG_MS;
    if (ms > bound) fail(t, i, "hang", `took ${Math.round(ms)} ms (bound ${bound} ms)`, cls.show(input));
    if (verdict.outcome === "accepted") t.accepted++;
    else if (verdict.outcome === "refused") {
      t.refused++;
      // A JavaScript error caught by a catch-all and passed on as the message is a crash in disguise.
      if (INTERNAL.test(verdict.message)) fail(t, i, "crash", `an internal error reached the message: ${verdict.message}`, cls.show(input));
      else if (!cls.located(verdict.message, input)) fail(t, i, "unlocated", `refused without saying where: ${verdict.message}`, cls.show(input));
    } else if (verdict.outcome === "silent") fail(t, i, "silent", verdict.detail, cls.show(input));
    else fail(t, i, "data-lost", verdict.detail, cls.show(input));
  }
  return t;
}

/** A failure report that replays: the class, seed and index, what went wrong and the input. */
export function describeFailures(t: Tally, limit = 5): string {
  const lines = [`${t.cls}: ${t.failures.length} failing input(s) of ${t.inputs} (replay with LFT_FUZZ_SEED=${t.seed})`];
  for (const f of t.failures.slice(0, limit)) lines.push(`--- input ${f.index}: ${f.kind}: ${f.detail}\n${f.input}`);
  return lines.join("\n");
}
