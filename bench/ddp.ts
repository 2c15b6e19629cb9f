// Data parallelism on this machine: the same model and per-rank batch trained on 1 rank (plain bun,
// every core) and on 2 MPI ranks (mpirun, one BLAS/OpenMP thread each, so the ranks share the cores
// rather than fight over them), tokens/s over the global batch and memory per rank.
// Run: bun bench/ddp.ts  (writes bench/results/ddp.json; needs mpirun and `make mpi`)
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { writeResults } from "./lib/results.ts";

const RANK = join(import.meta.dir, "ddp-rank.ts");
const BUN = process.execPath;
const mpiEnv = { OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" };

type Row = Record<string, unknown> & { tokensPerS: number };

function run(cmd: string[], env: Record<string, string>): Row {
  const r = Bun.spawnSync(cmd, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().slice(-800)}`);
  const line = r.stdout.toString().trim().split("\n").pop()!;
  return JSON.parse(line) as Row;
}

const cores = availableParallelism();
const startLoad = loadavg().map((x) => Number(x.toFixed(2)));
const perRankThreads = String(Math.max(1, Math.floor(cores / 2)));
// The machine is shared: alternate the two set-ups and keep each one's median run by tokens/s.
const REPEATS = Number(process.env.DDP_BENCH_REPEATS ?? 3);
const ones: Row[] = [];
const twos: Row[] = [];
for (let i = 0; i < REPEATS; i++) {
  ones.push(run([BUN, RANK], {}));
  twos.push(
    run(["mpirun", "-n", "2", "--oversubscribe", "--bind-to", "none", BUN, RANK], {
      ...mpiEnv,
      OMP_NUM_THREADS: perRankThreads,
      OPENBLAS_NUM_THREADS: perRankThreads,
    }),
  );
}
const median = (rows: Row[]): Row => [...rows].sort((a, b) => a.tokensPerS - b.tokensPerS)[rows.length >> 1]!;
const one = { ...median(ones), allTokensPerS: ones.map((r) => r.tokensPerS) };
const two = { ...median(twos), allTokensPerS: twos.map((r) => r.tokensPerS) };
const speedup = Number((two.tokensPerS / one.tokensPerS).toFixed(2));
const path = writeResults("ddp", {
  note: `median of ${REPEATS} alternating runs each; 1 rank uses all ${cores} cores; 2 ranks use ${perRankThreads} thread(s) each on the same machine, so this measures DDP's overhead and scaling on one host, not a cluster`,
  loadAverageAtStart: startLoad,
  loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
  oneRank: one,
  twoRanks: two,
  speedup,
});
console.log(`1 rank: ${one.tokensPerS} tok/s; 2 ranks: ${two.tokensPerS} tok/s (×${speedup}); written to ${path}`);
