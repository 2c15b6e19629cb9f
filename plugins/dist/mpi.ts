// The MPI engine as a registry entry: chosen automatically under mpirun or srun, or by `collectives mpi`.
import type { CollectivesEntry } from "../../core/index.ts";
import { launchedByMpi, mpiAvailable, openMpi } from "../../ffi/mpi/mpi.ts";

export const mpiEngine: CollectivesEntry = {
  name: "mpi",
  doc: "MPI (OpenMPI) over CPU ranks on one or many hosts; start with `lft launch -n N` or mpirun/srun",
  launchedBy: launchedByMpi,
  available: mpiAvailable,
  open: openMpi,
};
