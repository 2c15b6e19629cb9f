// The NCCL engine entry without a GPU: how it reads rank, size and the rendezvous address from each
// launcher's environment, that it is not chosen where CUDA cannot run, that available() says why, and
// the unique-id exchange between two mpirun ranks (MPI broadcast, or TCP) against a fake libnccl.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localRankOrdinal, probeCuda } from "../../../ffi/cuda/index.ts";
import { ncclEngine, ncclWorld } from "../../../plugins/dist/index.ts";
import { mpiMissing, runRanks } from "./mpi-env.ts";

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

// Under mpirun -n 2 with the fake libnccl: rank 0's id (the fake derives it from rank 0's pid) reaches rank
// 1 over an MPI broadcast, and over TCP when LFT_RENDEZVOUS names an address.
const gcc = Bun.which("gcc") ?? Bun.which("cc");
const mpi = mpiMissing() ?? (gcc ? null : "no C compiler for the fake libnccl");
describe.skipIf(mpi !== null)("unique id under mpirun -n 2 (fake libnccl)", () => {
  const dir = mkdtempSync(join(tmpdir(), "lft-nccl-id-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const lib = join(dir, "libnccl.so.2");
  beforeAll(() => {
    const r = Bun.spawnSync([gcc!, "-shared", "-fPIC", "-O1", "-o", lib, join(import.meta.dir, "../../ffi/nccl/fixtures/fake_nccl.c")], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`building the fake libnccl failed: ${r.stderr}`);
  });
  async function ids(name: string, env: Record<string, string>): Promise<string[]> {
    const out = join(dir, name);
    const r = await runRanks(2, join(import.meta.dir, "fixtures/nccl-id-worker.ts"), { LFT_NCCL_LIB: lib, OUT: out, ...env });
    if (r.code !== 0) throw new Error(`mpirun exited ${r.code}: ${r.stderr}`);
    return [0, 1].map((rank) => (JSON.parse(readFileSync(`${out}.rank${rank}.json`, "utf8")) as { id: string }).id);
  }
  test("over MPI: both ranks hold rank 0's id", async () => {
    const [a, b] = await ids("mpi", {});
    expect(a).toHaveLength(256);
    expect(b).toBe(a!);
  }, 30_000);
  test("over TCP at LFT_RENDEZVOUS: both ranks hold rank 0's id", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const address = `127.0.0.1:${probe.port}`;
    probe.stop(true);
    const [a, b] = await ids("tcp", { LFT_RENDEZVOUS: address });
    expect(b).toBe(a!);
  }, 30_000);
});
