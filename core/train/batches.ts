// The batch source the loop pulls from: `next()` plus a cursor that `state()` saves and `restore()`
// puts back, so a resumed run sees exactly the batches the interrupted one would have. Stages and the
// data worker implement it; `shuffledBatches` is the plain in-memory one (epochs reshuffled by Philox).
import { err, ok, type Result } from "neverthrow";
import { Philox } from "../random/philox.ts";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface ResumableBatches<B> {
  /** The next batch, or undefined when the data is exhausted (the loop then ends the run early). */
  next(): B | undefined;
  /** The cursor after the batches handed out so far (JSON, stored in checkpoints). */
  state(): JsonValue;
  restore(state: JsonValue): Result<void, Error>;
  /** Epochs completed plus the fraction of the current one, for display. */
  epoch?(): number;
}

export interface ShuffledBatchesOptions {
  batchSize: number;
  /** Reshuffle each epoch with this seed; omit to keep the given order. */
  seed?: number | bigint;
  /** Stop after this many epochs; default: cycle forever. */
  epochs?: number;
  /** A last batch smaller than batchSize is kept (default) or dropped. */
  dropLast?: boolean;
}

interface Cursor {
  epoch: number;
  index: number;
}

/** Batches of `items` in a Philox-shuffled order per epoch; the order of epoch e depends only on (seed, e). */
export function shuffledBatches<T>(items: readonly T[], o: ShuffledBatchesOptions): ResumableBatches<T[]> {
  if (!(Number.isInteger(o.batchSize) && o.batchSize > 0)) throw new RangeError(`shuffledBatches: batchSize must be a positive integer, got ${o.batchSize}`);
  if (items.length === 0) throw new RangeError("shuffledBatches: no items");
  const seed = o.seed === undefined ? undefined : BigInt(o.seed);
  const perEpoch = o.dropLast ? Math.floor(items.length / o.batchSize) * o.batchSize : items.length;
  if (perEpoch === 0) throw new RangeError(`shuffledBatches: ${items.length} items make no full batch of ${o.batchSize} with dropLast`);
  let cur: Cursor = { epoch: 0, index: 0 };
  let order: number[] = [];
  let orderEpoch = -1;
  const orderOf = (epoch: number): number[] => {
    if (orderEpoch !== epoch) {
      order = items.map((_, i) => i);
      // One stream per epoch, a billion words apart: epoch e's order never depends on earlier epochs.
      if (seed !== undefined) new Philox(seed, BigInt(epoch) * 4_000_000_000n).shuffle(order);
      orderEpoch = epoch;
    }
    return order;
  };
  return {
    next() {
      if (cur.index >= perEpoch) cur = { epoch: cur.epoch + 1, index: 0 };
      if (o.epochs !== undefined && cur.epoch >= o.epochs) return undefined;
      const ord = orderOf(cur.epoch);
      const end = Math.min(cur.index + o.batchSize, perEpoch);
      const batch = ord.slice(cur.index, end).map((i) => items[i]!);
      cur = { epoch: cur.epoch, index: end };
      return batch;
    },
    state() {
      return { epoch: cur.epoch, index: cur.index, items: items.length, batchSize: o.batchSize, seed: seed?.toString() ?? null };
    },
    restore(s) {
      const st = s as { epoch?: unknown; index?: unknown; items?: unknown; batchSize?: unknown; seed?: unknown } | null;
      if (!st || typeof st !== "object") return err(new Error(`data cursor: expected an object, found ${JSON.stringify(s)}`));
      if (st.items !== items.length || st.batchSize !== o.batchSize || st.seed !== (seed?.toString() ?? null)) {
        return err(
          new Error(
            `data cursor was saved for ${String(st.items)} items, batch ${String(st.batchSize)}, seed ${String(st.seed)}; this run has ${items.length} items, batch ${o.batchSize}, seed ${seed ?? "none"}: resume with the same data`,
          ),
        );
      }
      if (
        !Number.isInteger(st.epoch) ||
        !Number.isInteger(st.index) ||
        (st.epoch as number) < 0 ||
        (st.index as number) < 0 ||
        (st.index as number) > perEpoch
      ) {
        return err(new Error(`data cursor: bad position epoch ${String(st.epoch)}, index ${String(st.index)}`));
      }
      cur = { epoch: st.epoch as number, index: st.index as number };
      return ok(undefined);
    },
    epoch() {
      return cur.epoch + cur.index / perEpoch;
    },
  };
}
