// The NCCL engine as a registry entry: GPU ranks, chosen when a launcher (mpirun, srun, or LFT_RENDEZVOUS
// with LFT_RANK/LFT_WORLD_SIZE) started this process and the CUDA backend can run here. Each rank uses
// the CUDA backend's stream. Rank 0's unique id reaches the others over MPI when mpirun started the job
// and lft's MPI library is built (a broadcast), else over the TCP rendezvous at LFT_RENDEZVOUS (host:port
// of rank 0; on one node it defaults to 127.0.0.1:29500).
import { err, ok, type Result } from "neverthrow";
import { CollectiveError, type CollectivesEntry, Tensor } from "../../core/index.ts";
import { cpuBackend } from "../../ffi/cpu/cpu.ts";
import { cudaBackend, probeCuda } from "../../ffi/cuda/index.ts";
import { launchedByMpi, mpiAvailable, openMpi } from "../../ffi/mpi/mpi.ts";
import { broadcastId, loadNccl, type Nccl, ncclCollectives, tcpRendezvous } from "../../ffi/nccl/index.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** This process's place in the job, as its launcher states it. */
export interface NcclWorld {
  readonly rank: number;
  readonly size: number;
  /** host:port of rank 0's rendezvous. */
  readonly address: string;
}

const LAUNCHERS = [
  ["OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE"],
  ["PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"],
  ["SLURM_PROCID", "SLURM_NTASKS", "SLURM_NTASKS_PER_NODE"],
  ["LFT_RANK", "LFT_WORLD_SIZE", "LFT_LOCAL_WORLD_SIZE"],
] as const;

/** Rank, size and rendezvous address from the launcher's environment, or why they cannot be told. */
export function ncclWorld(env: Env): Result<NcclWorld, CollectiveError> {
  const found = LAUNCHERS.find(([r, s]) => env[r] !== undefined && env[s] !== undefined);
  if (!found) return err(new CollectiveError("unavailable", "nccl: no launcher environment (mpirun, srun, or LFT_RANK and LFT_WORLD_SIZE)"));
  const [rankVar, sizeVar, localVar] = found;
  const rank = Number(env[rankVar]);
  const size = Number(env[sizeVar]);
  if (!(Number.isInteger(size) && size >= 1 && Number.isInteger(rank) && rank >= 0 && rank < size))
    return err(new CollectiveError("rank", `nccl: ${rankVar}=${env[rankVar]} and ${sizeVar}=${env[sizeVar]} are not a rank of a world`));
  const oneNode = Number(env[localVar]) === size;
  const address = env.LFT_RENDEZVOUS ?? (oneNode || size === 1 ? "127.0.0.1:29500" : undefined);
  if (!address)
    return err(
      new CollectiveError(
        "unavailable",
        "nccl: a job over several hosts needs LFT_RENDEZVOUS=host:port, an address of rank 0's host that every rank can reach",
      ),
    );
  return ok({ rank, size, address });
}

/**
 * Rank 0's unique id on every rank: broadcast over MPI under mpirun (unless LFT_RENDEZVOUS names an address),
 * else through the TCP rendezvous. Collective: every rank of the job calls it.
 */
export function exchangeUniqueId(world: NcclWorld, nccl: Nccl, env: Env = process.env): Result<Uint8Array, CollectiveError> {
  const made = world.rank === 0 ? nccl.uniqueId() : ok(undefined);
  if (made.isErr()) return err(new CollectiveError("engine", made.error.message));
  const viaMpi = world.size > 1 && env.LFT_RENDEZVOUS === undefined && launchedByMpi(env) && mpiAvailable() === true;
  if (!viaMpi)
    return tcpRendezvous({ address: world.address, rank: world.rank, size: world.size, id: made.value }).mapErr(
      (e) => new CollectiveError("engine", e.message),
    );
  const mpi = openMpi();
  if (mpi.isErr()) return err(mpi.error);
  // Host memory for MPI (the CPU backend's), whatever backend the run computes on. MPI stays up until exit.
  return broadcastId(world.rank, made.value, (words) => {
    const t = Tensor.alloc(cpuBackend, [words.length], "f32", false);
    try {
      cpuBackend.upload(t, words);
      return mpi.value.broadcast(t, 0).map(() => cpuBackend.download(t) as Float32Array);
    } finally {
      t.dispose();
    }
  }).mapErr((e) => (e instanceof CollectiveError ? e : new CollectiveError("engine", e.message)));
}

export const ncclEngine: CollectivesEntry = {
  name: "nccl",
  doc: "NVIDIA NCCL over GPUs (one GPU per rank; libnccl.so.2 from the nvidia-nccl wheel or a CUDA image)",
  launchedBy: (env) => ncclWorld(env).isOk() && probeCuda() === true,
  available() {
    const cuda = probeCuda();
    if (cuda !== true) return `the CUDA backend cannot run here (${cuda})`;
    const lib = loadNccl();
    return lib.isOk() ? true : lib.error.message;
  },
  open() {
    const world = ncclWorld(process.env);
    if (world.isErr()) return err(world.error);
    const lib = loadNccl();
    if (lib.isErr()) return err(new CollectiveError("unavailable", lib.error.message));
    const nccl = lib.value;
    const { rank, size } = world.value;
    const id = exchangeUniqueId(world.value, nccl);
    if (id.isErr()) return err(id.error);
    const backend = cudaBackend();
    return ncclCollectives({ nccl, rank, size, id: id.value, backend, stream: backend.native.stream, synchronize: () => backend.synchronize() });
  },
};
