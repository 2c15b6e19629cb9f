// ZeRO-1 on this machine: optimizer-state bytes per rank and the optimizer step's time, for 1 rank, 2 plain
// ranks and 2 sharded ranks (mpirun -n 2), stories260K fully trainable with AdamW.
// Run: bun bench/zero.ts  (needs mpirun and `make mpi`; writes bench/results/zero.json)
import { join } from "node:path";
import { gitRevision, machine, writeResults } from "./lib/results.ts";

const worker = join(import.meta.dir, "zero-worker.ts");
const env = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1", STEPS: "10" };
function launch(ranks: number, zero: boolean): Record<string, unknown>[] {
  const cmd = [process.execPath, worker];
  const full = ranks === 1 ? cmd : ["mpirun", "-n", String(ranks), "--oversubscribe", ...cmd];
  const r = Bun.spawnSync(full, { env: { ...env, ZERO: zero ? "1" : "0" }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${full.join(" ")}: ${r.stderr}`);
  return r.stdout
    .toString()
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .sort((a, b) => Number(a.rank) - Number(b.rank));
}
const runs = [
  { case: "1 rank, adamw", ranks: launch(1, false) },
  { case: "2 ranks, adamw", ranks: launch(2, false) },
  { case: "2 ranks, adamw + zero = 1", ranks: launch(2, true) },
];
const whole = Number(runs[0]!.ranks[0]!.stateBytes);
const sharded = runs[2]!.ranks.map((r) => Number(r.stateBytes));
const out = {
  machine: machine(),
  date: new Date().toISOString(),
  revision: gitRevision(),
  model: "stories260K (every weight trainable)",
  engine: "mpi (OpenMPI, one host)",
  runs,
  zero: { wholeStateBytes: whole, perRankStateBytes: sharded, fractionPerRank: sharded.map((b) => +(b / whole).toFixed(4)) },
};
console.log(JSON.stringify(out, null, 2));
writeResults("zero", out);
