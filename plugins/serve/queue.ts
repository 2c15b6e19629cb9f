// Where generation runs. Requests wait in arrival order; when the model is free the first waiting request
// starts, together with the later greedy ones that share its stop strings (up to --max-batch sequences):
// one left-padded batch, each row with its own token budget, one fresh KV cache per batch that no other
// batch sees. Sampled requests run alone, so a seed gives the same choices however busy the server is.
// Between steps the queue yields to the event loop: streamed chunks go out, new requests are parsed and
// queued, disconnects are noticed; a batch whose clients all left stops at once, freeing its cache.
import type { GenerateResult, TokenEvent } from "../../core/index.ts";
import type { Sampling, ServedModel } from "../runner/index.ts";

export interface GenerationJob {
  /** The prompt once per choice (n). */
  readonly prompts: readonly (readonly number[])[];
  readonly sampling: Sampling;
  /** The request's own stop strings (the template's are added by the model). */
  readonly stop: readonly string[];
  /** Events of this job's rows, numbered from 0 within the job. */
  readonly onToken?: (e: TokenEvent) => void;
  /** Aborted when the client went away. */
  readonly signal: AbortSignal;
}

export type JobOutcome = { kind: "done"; result: GenerateResult } | { kind: "cancelled" } | { kind: "failed"; message: string };

interface Waiting {
  readonly job: GenerationJob;
  readonly finish: (o: JobOutcome) => void;
  /** First row of this job in its batch. */
  offset: number;
  settled: boolean;
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface QueueStats {
  /** Batches run, and the most sequences one of them held. */
  readonly batches: number;
  readonly largestBatch: number;
}

export class GenerationQueue {
  private readonly waiting: Waiting[] = [];
  private running = 0;
  private draining = false;
  private closed = false;
  private batches = 0;
  private largestBatch = 0;

  constructor(
    private readonly model: Pick<ServedModel, "start">,
    /** Most sequences (prompts × n) one batch may hold; 1 serves requests strictly one at a time. */
    private readonly maxBatch = 1,
  ) {}

  /** Requests waiting or generating. */
  get pending(): number {
    return this.waiting.length + this.running;
  }

  get stats(): QueueStats {
    return { batches: this.batches, largestBatch: this.largestBatch };
  }

  run(job: GenerationJob): Promise<JobOutcome> {
    if (this.closed) return Promise.resolve({ kind: "failed", message: "the server is shutting down" });
    const outcome = new Promise<JobOutcome>((finish) => this.waiting.push({ job, finish, offset: 0, settled: false }));
    if (!this.draining) void this.drain();
    return outcome;
  }

  /** Refuses new jobs and cancels the waiting ones; the running batch stops at its next step. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.finish({ kind: "cancelled" });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length > 0) await this.runBatch(this.takeBatch());
    } finally {
      this.draining = false;
    }
  }

  /** The first waiting job, with the later ones that can share its batch. */
  private takeBatch(): Waiting[] {
    const first = this.waiting.shift()!;
    const batch = [first];
    if (first.job.sampling.temperature !== 0) return batch;
    const key = JSON.stringify(first.job.stop);
    let rows = first.job.prompts.length;
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i]!;
      const fits = w.job.sampling.temperature === 0 && JSON.stringify(w.job.stop) === key && rows + w.job.prompts.length <= this.maxBatch;
      if (fits && !w.job.signal.aborted) {
        batch.push(w);
        rows += w.job.prompts.length;
        this.waiting.splice(i, 1);
      } else i++;
    }
    return batch;
  }

  private async runBatch(batch: Waiting[]): Promise<void> {
    const settle = (w: Waiting, o: JobOutcome) => {
      if (w.settled) return;
      w.settled = true;
      w.finish(o);
    };
    const live = batch.filter((w) => !w.job.signal.aborted);
    for (const w of batch) if (w.job.signal.aborted) settle(w, { kind: "cancelled" });
    if (live.length === 0) return;
    const prompts: (readonly number[])[] = [];
    const budgets: number[] = [];
    const owner: Waiting[] = [];
    for (const w of live) {
      w.offset = prompts.length;
      for (const p of w.job.prompts) {
        prompts.push(p);
        budgets.push(w.job.sampling.maxNewTokens);
        owner.push(w);
      }
    }
    const first = live[0]!.job;
    const sampling: Sampling = { ...first.sampling, maxNewTokens: Math.max(...budgets), ...(live.length > 1 && { maxNewTokensPerRow: budgets }) };
    const onToken = (e: TokenEvent): void => {
      const w = owner[e.row]!;
      if (!w.settled) w.job.onToken?.({ ...e, row: e.row - w.offset });
    };
    this.running = live.length;
    this.batches++;
    this.largestBatch = Math.max(this.largestBatch, prompts.length);
    let steps: Generator<number, GenerateResult, void> | undefined;
    try {
      const started = this.model.start(prompts, sampling, first.stop, onToken);
      if (started.isErr()) {
        for (const w of live) settle(w, { kind: "failed", message: started.error });
        return;
      }
      steps = started.value;
      for (;;) {
        for (const w of live) if (w.job.signal.aborted || this.closed) settle(w, { kind: "cancelled" });
        if (live.every((w) => w.settled)) {
          steps.return(undefined as never);
          return;
        }
        const step = steps.next();
        if (step.done) {
          const r = step.value;
          for (const w of live) {
            const rows = (xs: readonly unknown[] | null) => xs?.slice(w.offset, w.offset + w.job.prompts.length);
            settle(w, {
              kind: "done",
              result: {
                tokens: rows(r.tokens) as number[][],
                texts: (rows(r.texts) as string[] | undefined) ?? null,
                finishReasons: rows(r.finishReasons) as GenerateResult["finishReasons"],
              },
            });
          }
          return;
        }
        await nextTick();
      }
    } catch (e) {
      steps?.return(undefined as never);
      for (const w of live) settle(w, { kind: "failed", message: e instanceof Error ? e.message : String(e) });
    } finally {
      this.running = 0;
    }
  }
}
