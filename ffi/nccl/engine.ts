// The collectives contract over NCCL: one communicator per process, every collective enqueued on the
// compute backend's stream (the CUDA backend's), so it is ordered after the kernels that wrote its tensor
// and before those that read it, without a host wait. allReduceStart enqueues and returns: the overlap
// with backward is the GPU's (NCCL runs its own kernels), and wait() only checks for an asynchronous error.
import type { Pointer } from "bun:ffi";
import { err, ok, type Result } from "neverthrow";
import {
  type Backend,
  CollectiveError,
  type Collectives,
  checkCollectiveTensor,
  checkGathered,
  checkRoot,
  type Pending,
  type ReduceOp,
  Tensor,
} from "../../core/index.ts";
import type { DeviceBuffer, Nccl } from "./nccl.ts";

/** NCCL 2.10 brought ncclAvg, which `mean` uses. */
export const MIN_NCCL_VERSION = 21000;

export interface NcclEngineOptions {
  readonly nccl: Nccl;
  readonly rank: number;
  readonly size: number;
  /** The job's unique id, the same bytes on every rank (rank 0 made it; see rendezvous.ts). */
  readonly id: Uint8Array;
  /** The backend whose tensors the collectives take (its device memory is what NCCL reads and writes). */
  readonly backend: Backend;
  /** That backend's stream (null: the default stream). */
  readonly stream: Pointer | null;
  /** Waits for the stream (barrier); defaults to nothing (a host backend has no queue). */
  readonly synchronize?: () => void;
  /** Where abort() writes its message (default stderr) and how it ends the process (default exit 1). */
  readonly exit?: (message: string) => never;
}

const buffer = (t: Tensor): DeviceBuffer => ({ ptr: t.ptr, count: t.numel, dtype: "f32" });

/** Joins the communicator (blocks until every rank has) and returns the engine over it. */
export function ncclCollectives(o: NcclEngineOptions): Result<Collectives, CollectiveError> {
  const engineError = (e: Error) => new CollectiveError("engine", `rank ${o.rank}: ${e.message}`);
  const version = o.nccl.version();
  if (version.isErr()) return err(engineError(version.error));
  if (version.value < MIN_NCCL_VERSION)
    return err(
      new CollectiveError("unavailable", `nccl: version ${version.value} at ${o.nccl.path} is older than 2.10 (${MIN_NCCL_VERSION}); lft needs ncclAvg`),
    );
  const made = o.nccl.initRank(o.size, o.id, o.rank);
  if (made.isErr()) return err(engineError(made.error));
  const comm = made.value;
  const { nccl, rank, size, stream } = o;
  let closed = false;
  const token = Tensor.alloc(o.backend, [1], "f32", false);
  o.backend.fill(token, 0);

  const open = (what: string): Result<void, CollectiveError> =>
    closed ? err(new CollectiveError("closed", `${what}: the NCCL communicator is closed`)) : ok(undefined);
  const wrap = (r: Result<void, Error>): Result<void, CollectiveError> => r.mapErr(engineError);
  const onDevice = (what: string, t: Tensor): Result<void, CollectiveError> =>
    t.backend === o.backend
      ? ok(undefined)
      : err(new CollectiveError("shape", `${what}: the tensor is on backend "${t.backend.name}", the NCCL engine on "${o.backend.name}"`));
  const reduce = (what: string, t: Tensor, op: ReduceOp) =>
    open(what)
      .andThen(() => checkCollectiveTensor(what, t))
      .andThen(() => onDevice(what, t))
      .andThen(() => wrap(nccl.allReduce(buffer(t), buffer(t), op === "mean" ? "avg" : "sum", comm, stream)));

  return ok({
    engine: "nccl",
    rank,
    size,
    allReduce: (t, op) => reduce("allReduce", t, op),
    allReduceStart: (t, op) =>
      reduce("allReduceStart", t, op).map((): Pending => {
        let waited = false;
        return {
          wait: () => {
            if (waited) return ok(undefined);
            waited = true;
            return wrap(nccl.asyncError(comm));
          },
        };
      }),
    allGather: (input, output) =>
      open("allGather")
        .andThen(() => checkGathered("allGather", input, output, size))
        .andThen(() => onDevice("allGather", input))
        .andThen(() => onDevice("allGather", output))
        .andThen(() => wrap(nccl.allGather(buffer(input), buffer(output), size, comm, stream))),
    reduceScatter: (input, output, op) =>
      open("reduceScatter")
        .andThen(() => checkGathered("reduceScatter", output, input, size))
        .andThen(() => onDevice("reduceScatter", input))
        .andThen(() => onDevice("reduceScatter", output))
        .andThen(() => wrap(nccl.reduceScatter(buffer(input), buffer(output), op === "mean" ? "avg" : "sum", size, comm, stream))),
    broadcast: (t, root) =>
      open("broadcast")
        .andThen(() => checkCollectiveTensor("broadcast", t))
        .andThen(() => checkRoot("broadcast", root, size))
        .andThen(() => onDevice("broadcast", t))
        .andThen(() => wrap(nccl.broadcast(buffer(t), root, size, comm, stream))),
    // A one-element all-reduce every rank must join, then a wait for the stream: no rank passes before all arrive.
    barrier: () => reduce("barrier", token, "sum").map(() => o.synchronize?.()),
    abort(message: string): never {
      // Peers blocked in a collective with this rank see a remote error instead of hanging.
      if (!closed) nccl.abort(comm);
      closed = true;
      const text = `lft: rank ${rank} of ${size} aborted the job: ${message}`;
      if (o.exit) return o.exit(text);
      process.stderr.write(`${text}\n`);
      process.exit(1);
    },
    close: () => {
      if (closed) return ok(undefined);
      closed = true;
      token.dispose();
      return wrap(nccl.destroy(comm));
    },
  });
}
