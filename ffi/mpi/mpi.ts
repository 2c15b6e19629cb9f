// The binding to ffi/mpi/build/liblft_mpi.so (OpenMPI through `make mpi`) and the MPI collectives
// engine on top of it. Tensors must be live contiguous f32 in host memory (the CPU backend); every
// size is checked here before C runs. The library is opened on first use, so importing this file
// costs nothing where MPI is not installed.
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import {
  CollectiveError,
  type Collectives,
  checkCollectiveTensor,
  checkGathered,
  checkRoot,
  type Pending,
  type ReduceOp,
  type Tensor,
} from "../../core/index.ts";

export const MPI_LIB_PATH = join(import.meta.dir, "build", "liblft_mpi.so");
/** MPI counts are C ints. */
const MAX_COUNT = 2 ** 31 - 1;

const { i32, i64, f32, ptr, void: none } = FFIType;
const SYMBOLS = {
  lft_mpi_init: { args: [], returns: i32 },
  lft_mpi_rank: { args: [], returns: i32 },
  lft_mpi_size: { args: [], returns: i32 },
  lft_mpi_allreduce_f32: { args: [ptr, i32], returns: i32 },
  lft_mpi_iallreduce_f32: { args: [ptr, i32], returns: i32 },
  lft_mpi_wait: { args: [i32], returns: i32 },
  lft_mpi_allgather_f32: { args: [ptr, ptr, i32], returns: i32 },
  lft_mpi_reduce_scatter_f32: { args: [ptr, ptr, i32], returns: i32 },
  lft_mpi_bcast: { args: [ptr, i32, i32], returns: i32 },
  lft_mpi_barrier: { args: [], returns: i32 },
  lft_mpi_scale_f32: { args: [ptr, i64, f32], returns: none },
  lft_mpi_error_string: { args: [i32, ptr, i32], returns: i32 },
  lft_mpi_abort: { args: [i32], returns: none },
  lft_mpi_finalize: { args: [], returns: i32 },
} as const;

type Native = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];
let native: Native | null = null;

/** true, or why the MPI engine cannot run here. */
export function mpiAvailable(): true | string {
  if (!existsSync(MPI_LIB_PATH)) return `the MPI shim is not built (${MPI_LIB_PATH} is missing); install libopenmpi-dev and run \`make mpi\``;
  return true;
}

function load(): Result<Native, CollectiveError> {
  if (native) return ok(native);
  const available = mpiAvailable();
  if (available !== true) return err(new CollectiveError("unavailable", available));
  try {
    native = dlopen(MPI_LIB_PATH, SYMBOLS).symbols;
    return ok(native);
  } catch (cause) {
    return err(new CollectiveError("unavailable", `cannot load ${MPI_LIB_PATH}: ${cause instanceof Error ? cause.message : String(cause)}`));
  }
}

function errorText(lib: Native, code: number): string {
  const buf = Buffer.alloc(512);
  const len = lib.lft_mpi_error_string(code, buf, buf.length);
  return buf.subarray(0, len).toString("utf8");
}

const at = (t: Tensor): Pointer => t.ptr as Pointer;

/** Launched by OpenMPI's mpirun, or by Slurm/PMI (srun), with more than one rank possible. */
export function launchedByMpi(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.OMPI_COMM_WORLD_SIZE !== undefined || env.PMI_SIZE !== undefined || env.PMIX_RANK !== undefined;
}

/** Joins MPI_COMM_WORLD (MPI_Init on first call); every rank must call it. */
export function openMpi(): Result<Collectives, CollectiveError> {
  const loaded = load();
  if (loaded.isErr()) return err(loaded.error);
  const lib = loaded.value;
  const initCode = lib.lft_mpi_init();
  if (initCode !== 0) return err(new CollectiveError("engine", `MPI_Init failed: ${errorText(lib, initCode)}`));
  const rank = lib.lft_mpi_rank();
  const size = lib.lft_mpi_size();
  let closed = false;
  // mpirun fails a job whose ranks exit without MPI_Finalize; finalize on any normal exit.
  const finalize = (): void => {
    if (!closed) {
      closed = true;
      lib.lft_mpi_finalize();
    }
  };
  process.once("exit", finalize);

  const failed = (what: string, code: number): CollectiveError =>
    new CollectiveError("engine", `${what} failed on rank ${rank} of ${size}: ${errorText(lib, code)}`);
  const usable = (what: string, ...ts: Tensor[]): Result<void, CollectiveError> => {
    if (closed) return err(new CollectiveError("closed", `${what}: the MPI communicator is closed`));
    for (const t of ts) {
      const checked = checkCollectiveTensor(what, t);
      if (checked.isErr()) return checked;
      if (t.backend.name !== "cpu") return err(new CollectiveError("dtype", `${what}: MPI reduces host memory; the tensor is on ${t.backend.name}`));
      if (t.numel > MAX_COUNT)
        return err(new CollectiveError("shape", `${what}: ${t.numel} elements exceed MPI's count limit (${MAX_COUNT}); reduce in buckets`));
    }
    return ok(undefined);
  };
  const code = (what: string, rc: number): Result<void, CollectiveError> => (rc === 0 ? ok(undefined) : err(failed(what, rc)));
  const finish = (t: Tensor, op: ReduceOp): void => {
    if (op === "mean" && size > 1) lib.lft_mpi_scale_f32(at(t), t.numel, 1 / size);
  };

  const collectives: Collectives = {
    engine: "mpi",
    rank,
    size,
    allReduce: (t, op) =>
      usable("allReduce", t)
        .andThen(() => code("MPI_Allreduce", lib.lft_mpi_allreduce_f32(at(t), t.numel)))
        .map(() => finish(t, op)),
    allReduceStart(t, op): Result<Pending, CollectiveError> {
      const checked = usable("allReduceStart", t);
      if (checked.isErr()) return err(checked.error);
      const handle = lib.lft_mpi_iallreduce_f32(at(t), t.numel);
      if (handle < 0) return err(failed("MPI_Iallreduce", -handle - 1));
      let waited = false;
      return ok({
        wait(): Result<void, CollectiveError> {
          if (waited) return ok(undefined);
          waited = true;
          return code("MPI_Wait", lib.lft_mpi_wait(handle)).map(() => finish(t, op));
        },
      });
    },
    allGather: (input, output) =>
      usable("allGather", input, output)
        .andThen(() => checkGathered("allGather", input, output, size))
        .andThen(() => code("MPI_Allgather", lib.lft_mpi_allgather_f32(at(input), at(output), input.numel))),
    reduceScatter: (input, output, op) =>
      usable("reduceScatter", input, output)
        .andThen(() => checkGathered("reduceScatter", output, input, size))
        .andThen(() => code("MPI_Reduce_scatter_block", lib.lft_mpi_reduce_scatter_f32(at(input), at(output), output.numel)))
        .map(() => finish(output, op)),
    broadcast(t, root) {
      const checked = usable("broadcast", t).andThen(() => checkRoot("broadcast", root, size));
      if (checked.isErr()) return checked;
      if (t.bytes > MAX_COUNT) return err(new CollectiveError("shape", `broadcast: ${t.bytes} bytes exceed MPI's count limit (${MAX_COUNT})`));
      return code("MPI_Bcast", lib.lft_mpi_bcast(at(t), t.bytes, root));
    },
    barrier: () => (closed ? err(new CollectiveError("closed", "barrier: the MPI communicator is closed")) : code("MPI_Barrier", lib.lft_mpi_barrier())),
    abort(message: string): never {
      process.stderr.write(`lft: rank ${rank} of ${size}: ${message}\n`);
      lib.lft_mpi_abort(1);
      process.exit(1);
    },
    close() {
      finalize();
      process.removeListener("exit", finalize);
      return ok(undefined);
    },
  };
  return ok(collectives);
}
