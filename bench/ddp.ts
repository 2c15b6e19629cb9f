// Data parallelism on this machine: the same model and per-rank batch trained on 1 rank (plain bun,
// every core) and on 2 MPI ranks (mpirun, one BLAS/OpenMP thread each, so the ranks share the cores
// rather than fight over them), tokens/s over the global batch and memory per rank.
// Run: bun bench/ddp.ts  (writes bench/results/ddp.json; needs mpirun and `make mpi`)
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { writeResults } from "./lib/results.ts";

const RANK = join(import.meta.dir, "ddp-rank.ts");
const BUN = process.execPath;
const mpiEnv = { OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" };

function run(cmd: string[], env: Record<string, string>): Record<string, unknown> {
  const r = Bun.spawnSync(cmd, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().slice(-800)}`);
  const line = r.stdout.toString().trim().split("\n").pop()!;
  return JSON.parse(line) as Record<string, unknown>;
}

const cores = availableParallelism();
const perRankThreads = String(Math.max(1, Math.floor(cores / 2)));
const one = run([BUN, RANK], {});
const two = run(["mpirun", "-n", "2", "--oversubscribe", "--bind-to", "none", BUN, RANK], {
  ...mpiEnv,
  OMP_NUM_THREADS: perRankThreads,
  OPENBLAS_NUM_THREADS: perRankThreads,
});
const speedup = Number(((two.tokensPerS as number) / (one.tokensPerS as number)).toFixed(2));
const path = writeResults("ddp", {
  note: `1 rank uses all ${cores} cores; 2 ranks use ${perRankThreads} thread(s) each on the same machine, so this measures DDP's overhead and scaling on one host, not a cluster`,
  oneRank: one,
  twoRanks: two,
  speedup,
});
console.log(`1 rank: ${one.tokensPerS} tok/s; 2 ranks: ${two.tokensPerS} tok/s (×${speedup}); written to ${path}`);
