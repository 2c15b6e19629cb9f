// The NCCL engine as a registry entry: GPU ranks, chosen when a launcher (mpirun, srun, or LFT_RENDEZVOUS
// with LFT_RANK/LFT_WORLD_SIZE) started this process and the CUDA backend can run here. Each rank uses
// the CUDA backend's stream; rank 0's unique id reaches the others over the TCP rendezvous at
// LFT_RENDEZVOUS (host:port of rank 0; on one node it defaults to 127.0.0.1:29500).
import { err, ok, type Result } from "neverthrow";
import { CollectiveError, type CollectivesEntry } from "../../core/index.ts";
import { cudaBackend, probeCuda } from "../../ffi/cuda/index.ts";
import { loadNccl, ncclCollectives, tcpRendezvous } from "../../ffi/nccl/index.ts";

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
    const { rank, size, address } = world.value;
    const made = rank === 0 ? nccl.uniqueId() : ok(undefined);
    if (made.isErr()) return err(new CollectiveError("engine", made.error.message));
    const id = tcpRendezvous({ address, rank, size, id: made.value });
    if (id.isErr()) return err(new CollectiveError("engine", id.error.message));
    const backend = cudaBackend();
    return ncclCollectives({ nccl, rank, size, id: id.value, backend, stream: backend.native.stream, synchronize: () => backend.synchronize() });
  },
};
