// Data-parallel gradient averaging (DDP) over any collectives engine. Parameters are grouped into
// flat f32 buckets in reverse order (backward finishes the last layers first); during the step's last
// micro-batch each gradient is copied into its bucket as soon as onGradReady says it is complete, and
// a full bucket starts a non-blocking all-reduce, so communication overlaps the rest of backward.
// Buckets start strictly in index order, the same on every rank (MPI requires one order). finish()
// starts what is left, sums the step's loss weights over ranks, waits, and writes the summed
// gradients back: the loop then divides by the global weight, exactly as one rank accumulating every
// rank's micro-batches would.
import { err, ok, type Result } from "neverthrow";
import { onGradReady } from "../autograd/tape.ts";
import { tensor, zeros } from "../tensor/create.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { CollectiveError, type Collectives, type Pending } from "./collectives.ts";

/** The step's sums that every rank needs in full: loss weights, weighted losses, tokens. */
export interface StepTotals {
  readonly weights: number;
  readonly weighted: number;
  readonly tokens: number;
}

export interface GradientSync {
  readonly collectives: Collectives;
  /** Call before each micro-batch's backward; `last` (the step's final micro-batch) arms the buckets. */
  beforeBackward(last: boolean): void;
  /** After the step's last backward: every parameter's grad becomes the sum over ranks; returns the global totals. */
  finish(local: StepTotals): Result<StepTotals, CollectiveError>;
  /** Bytes of the flat buckets (one copy of the trainable gradients). */
  readonly bucketBytes: number;
  dispose(): void;
}

interface Bucket {
  readonly flat: Tensor;
  readonly params: Tensor[];
  readonly views: Tensor[];
  copied: Set<Tensor>;
  pending: Pending | null;
}

/** Default bucket size: big enough to amortise a collective's latency, small enough to overlap. */
export const DEFAULT_BUCKET_BYTES = 25 * 2 ** 20;

export function gradientSync(collectives: Collectives, params: readonly Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES): GradientSync {
  // Buckets live where the parameters do (host memory for MPI, device memory for NCCL).
  const backend = params[0]?.backend;
  const on = backend ? { backend } : {};
  const buckets: Bucket[] = [];
  const bucketOf = new Map<Tensor, Bucket>();
  let group: Tensor[] = [];
  let groupBytes = 0;
  const close = (): void => {
    if (group.length === 0) return;
    const flat = zeros([group.reduce((n, p) => n + p.numel, 0)], on);
    let offset = 0;
    const views = group.map((p) => {
      const v = flat.view(p.shape, flat.byteOffset + offset * 4, false);
      offset += p.numel;
      return v;
    });
    const bucket: Bucket = { flat, params: group, views, copied: new Set(), pending: null };
    for (const p of group) bucketOf.set(p, bucket);
    buckets.push(bucket);
    group = [];
    groupBytes = 0;
  };
  for (const p of [...params].reverse()) {
    group.push(p);
    groupBytes += p.numel * 4;
    if (groupBytes >= bucketBytes) close();
  }
  close();

  let armed = false;
  let failure: CollectiveError | null = null;
  let nextToStart = 0;
  const copyIn = (b: Bucket, p: Tensor): void => {
    const v = b.views[b.params.indexOf(p)]!;
    if (p.grad) p.backend.copy(v, p.grad);
    else p.backend.fill(v, 0);
    b.copied.add(p);
  };
  const start = (b: Bucket): void => {
    const started = collectives.allReduceStart(b.flat, "sum");
    if (started.isErr()) failure ??= started.error;
    else b.pending = started.value;
  };
  // Starts every bucket that is complete, in index order, stopping at the first incomplete one.
  const startReady = (): void => {
    while (nextToStart < buckets.length && buckets[nextToStart]!.copied.size === buckets[nextToStart]!.params.length) start(buckets[nextToStart++]!);
  };
  const unhooks = params.map((p) =>
    onGradReady(p, (leaf) => {
      if (!armed || failure) return;
      const b = bucketOf.get(leaf)!;
      copyIn(b, leaf);
      startReady();
    }),
  );
  const reset = (): void => {
    armed = false;
    nextToStart = 0;
    for (const b of buckets) {
      b.copied = new Set();
      b.pending = null;
    }
  };

  return {
    collectives,
    bucketBytes: buckets.reduce((n, b) => n + b.flat.bytes, 0),
    beforeBackward(last) {
      armed = last;
    },
    finish(local) {
      try {
        for (const b of buckets) for (const p of b.params) if (!b.copied.has(p)) copyIn(b, p);
        startReady();
        const sums = tensor([local.weights, local.weighted, local.tokens], [3], on);
        const summed = collectives.allReduce(sums, "sum");
        const [weights, weighted, tokens] = Array.from(sums.toArray());
        sums.dispose();
        for (const b of buckets) {
          const waited = b.pending ? b.pending.wait() : ok(undefined);
          if (waited.isErr()) failure ??= waited.error;
        }
        if (failure) return err(failure);
        if (summed.isErr()) return err(summed.error);
        for (const b of buckets) {
          b.params.forEach((p, i) => {
            p.grad ??= zeros(p.shape, { backend: p.backend });
            p.backend.copy(p.grad, b.views[i]!);
          });
        }
        return ok({ weights: weights!, weighted: weighted!, tokens: Math.round(tokens!) });
      } finally {
        failure = null;
        reset();
      }
    },
    dispose() {
      for (const u of unhooks) u();
      for (const b of buckets) {
        for (const v of b.views) v.dispose();
        b.flat.dispose();
      }
    },
  };
}

/** Makes every rank's parameters rank 0's (after initialisation or a resume). */
export function broadcastParams(collectives: Collectives, params: readonly Tensor[]): Result<void, CollectiveError> {
  for (const p of params) {
    const r = collectives.broadcast(p, 0);
    if (r.isErr()) return err(new CollectiveError(r.error.reason, `broadcasting the initial weights from rank 0: ${r.error.message}`));
  }
  return ok(undefined);
}
