// Shared by the MPI tests: whether mpirun and the shim are here (building the shim with `make mpi`
// when mpicc is), and how to start N ranks of a script as root on a 2-core machine.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MPI_LIB_PATH } from "../../../ffi/mpi/mpi.ts";

export const ROOT = join(import.meta.dir, "..", "..", "..");
export const BUN = join(ROOT, "node_modules", ".bin", "bun");

/** null when MPI tests can run; otherwise why not (printed by the skipping test). */
export function mpiMissing(): string | null {
  if (!Bun.which("mpirun")) return "mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)";
  if (!existsSync(MPI_LIB_PATH)) {
    if (!Bun.which("mpicc")) return "mpicc is not installed (apt-get install libopenmpi-dev)";
    const made = Bun.spawnSync(["make", "-s", "mpi"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (made.exitCode !== 0) return `make mpi failed: ${made.stderr.toString()}`;
  }
  return null;
}

export const MPI_ENV = { OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1", OMPI_MCA_rmaps_base_oversubscribe: "1" };

export interface Ran {
  readonly code: number;
  readonly stderr: string;
  readonly stdout: string;
}

/** `mpirun -n ranks bun script` (ranks = 0: plain `bun script`, one process outside MPI). */
export async function runRanks(ranks: number, script: string, env: Record<string, string>, timeoutMs = 25_000): Promise<Ran> {
  const cmd = ranks === 0 ? [BUN, script] : ["mpirun", "-n", String(ranks), "--oversubscribe", BUN, script];
  const p = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, ...MPI_ENV, ...env }, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
