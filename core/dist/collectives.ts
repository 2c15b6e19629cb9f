// The collectives contract: what data parallelism needs from a communication engine (MPI, NCCL, ...).
// Engines are plugins (the `collectives` registry collection); core holds only the contract and the
// one-rank engine. Every call returns a Result: a failed collective is a value the caller turns into
// an abort that names the rank, never a stack trace.
import type { Result } from "neverthrow";
import type { Tensor } from "../tensor/tensor.ts";

/** How contributions from every rank combine: `mean` is `sum` divided by the number of ranks. */
export type ReduceOp = "sum" | "mean";

export type CollectiveErrorReason = "engine" | "shape" | "dtype" | "rank" | "closed" | "unavailable";

/** A collective that could not run (bad tensor, engine failure, closed communicator). */
export class CollectiveError extends Error {
  override readonly name = "CollectiveError";
  constructor(
    readonly reason: CollectiveErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** A non-blocking collective in flight: its tensor must not be read, written or disposed until wait(). */
export interface Pending {
  /** Blocks until the collective completes (mean division included); calling it again is a no-op. */
  wait(): Result<void, CollectiveError>;
}

/**
 * A communicator over `size` ranks. Tensors are contiguous f32 on the engine's device; every rank
 * must issue the same collectives in the same order with the same shapes (MPI's rule).
 */
export interface Collectives {
  /** The engine's registry name (`single`, `mpi`, `nccl`). */
  readonly engine: string;
  /** This process's rank, 0 ≤ rank < size; rank 0 writes checkpoints and the run store. */
  readonly rank: number;
  readonly size: number;
  /** In place: every rank's `t` becomes the sum (or mean) over ranks. */
  allReduce(t: Tensor, op: ReduceOp): Result<void, CollectiveError>;
  /** Starts an in-place all-reduce and returns at once, so communication overlaps backward. */
  allReduceStart(t: Tensor, op: ReduceOp): Result<Pending, CollectiveError>;
  /** output (numel = size × input numel) receives every rank's input, in rank order. */
  allGather(input: Tensor, output: Tensor): Result<void, CollectiveError>;
  /** input (numel = size × output numel) is reduced over ranks; rank r keeps slice r in output. */
  reduceScatter(input: Tensor, output: Tensor, op: ReduceOp): Result<void, CollectiveError>;
  /** In place: every rank's `t` becomes root's. */
  broadcast(t: Tensor, root: number): Result<void, CollectiveError>;
  barrier(): Result<void, CollectiveError>;
  /** Ends every rank of the job: prints `message` (naming this rank) and exits non-zero. */
  abort(message: string): never;
  /** Releases the communicator; later calls fail with reason `closed`. */
  close(): Result<void, CollectiveError>;
}
