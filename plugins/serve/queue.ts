// The one place generation runs: requests wait in arrival order and each runs alone on the model, with
// its own KV cache (core's generateSteps makes one per call), so no request ever sees another's cache
// and a greedy answer under load is the answer it gets alone. Between steps the queue yields to the
// event loop: streamed chunks go out, new requests are parsed and queued, disconnects are noticed.
import type { GenerateResult } from "../../core/index.ts";

export interface GenerationJob {
  /** Starts generation; an error message when the model refuses the inputs. */
  readonly start: () => { ok: true; steps: Generator<number, GenerateResult, void> } | { ok: false; message: string };
  /** Aborted when the client went away: the job is dropped (or stopped mid-way) and its cache freed. */
  readonly signal: AbortSignal;
}

export type JobOutcome = { kind: "done"; result: GenerateResult } | { kind: "cancelled" } | { kind: "failed"; message: string };

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class GenerationQueue {
  private readonly waiting: { job: GenerationJob; finish: (o: JobOutcome) => void }[] = [];
  private draining = false;
  private closed = false;

  /** Requests waiting, and whether one is generating. */
  get pending(): number {
    return this.waiting.length + (this.draining ? 1 : 0);
  }

  run(job: GenerationJob): Promise<JobOutcome> {
    if (this.closed) return Promise.resolve({ kind: "failed", message: "the server is shutting down" });
    const outcome = new Promise<JobOutcome>((finish) => this.waiting.push({ job, finish }));
    if (!this.draining) void this.drain();
    return outcome;
  }

  /** Refuses new jobs and cancels the waiting ones; the running one stops at its next step. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.finish({ kind: "cancelled" });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) {
        next.finish(await this.runOne(next.job));
      }
    } finally {
      this.draining = false;
    }
  }

  private async runOne(job: GenerationJob): Promise<JobOutcome> {
    if (job.signal.aborted) return { kind: "cancelled" };
    let steps: Generator<number, GenerateResult, void> | undefined;
    try {
      const started = job.start();
      if (!started.ok) return { kind: "failed", message: started.message };
      steps = started.steps;
      for (;;) {
        if (job.signal.aborted || this.closed) {
          steps.return(undefined as never);
          return { kind: "cancelled" };
        }
        const step = steps.next();
        if (step.done) return { kind: "done", result: step.value };
        await nextTick();
      }
    } catch (e) {
      steps?.return(undefined as never);
      return { kind: "failed", message: e instanceof Error ? e.message : String(e) };
    }
  }
}
