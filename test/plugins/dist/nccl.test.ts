// The NCCL engine entry without a GPU: how it reads rank, size and the rendezvous address from each
// launcher's environment, that it is not chosen where CUDA cannot run, and that available() says why.
import { expect, test } from "bun:test";
import { localRankOrdinal, probeCuda } from "../../../ffi/cuda/index.ts";
import { ncclEngine, ncclWorld } from "../../../plugins/dist/index.ts";

test("rank and size from mpirun, srun and LFT_* variables; one node defaults the rendezvous to localhost", () => {
  expect(ncclWorld({ OMPI_COMM_WORLD_RANK: "1", OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_LOCAL_SIZE: "2" })._unsafeUnwrap()).toEqual({
    rank: 1,
    size: 2,
    address: "127.0.0.1:29500",
  });
  expect(ncclWorld({ SLURM_PROCID: "3", SLURM_NTASKS: "8", LFT_RENDEZVOUS: "gpu01:29600" })._unsafeUnwrap()).toEqual({
    rank: 3,
    size: 8,
    address: "gpu01:29600",
  });
  expect(ncclWorld({ LFT_RANK: "0", LFT_WORLD_SIZE: "1" })._unsafeUnwrap().size).toBe(1);
});

test("several hosts without LFT_RENDEZVOUS, a rank outside the world, or no launcher: an error saying what to set", () => {
  expect(ncclWorld({ SLURM_PROCID: "3", SLURM_NTASKS: "8", SLURM_NTASKS_PER_NODE: "4" })._unsafeUnwrapErr().message).toContain("LFT_RENDEZVOUS=host:port");
  expect(ncclWorld({ OMPI_COMM_WORLD_RANK: "2", OMPI_COMM_WORLD_SIZE: "2" })._unsafeUnwrapErr().reason).toBe("rank");
  expect(ncclWorld({})._unsafeUnwrapErr().message).toContain("no launcher");
});

test("each rank on a node takes its own GPU (local rank), device 0 outside a launcher", () => {
  expect(localRankOrdinal({ OMPI_COMM_WORLD_LOCAL_RANK: "3" })).toBe(3);
  expect(localRankOrdinal({ SLURM_LOCALID: "1" })).toBe(1);
  expect(localRankOrdinal({})).toBe(0);
});

test.skipIf(probeCuda() === true)("without a usable GPU the engine is never chosen and says why it cannot run", () => {
  expect(ncclEngine.launchedBy({ OMPI_COMM_WORLD_RANK: "0", OMPI_COMM_WORLD_SIZE: "2", OMPI_COMM_WORLD_LOCAL_SIZE: "2" })).toBe(false);
  expect(String(ncclEngine.available())).toContain("the CUDA backend cannot run here");
});
