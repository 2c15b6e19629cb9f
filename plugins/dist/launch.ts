// `lft launch -n N recipe.lft [--hosts a,b | --hostfile F] [-- lft args]`: runs the recipe on N MPI
// ranks through mpirun (the same as `mpirun -n N ./lft recipe.lft`, with the flags this machine
// needs). Output streams through; when a rank dies the job stops and this says which, and how to resume.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { type CommandEntry, ExitCode } from "../../core/index.ts";
import { mpiAvailable } from "../../ffi/mpi/mpi.ts";
import { deadRank, mpirunCommand, parseLaunch } from "./launch-args.ts";

const usage = "-n N <recipe.lft> [--hosts a,b | --hostfile FILE] [-- lft options]";
const LFT = join(import.meta.dir, "..", "..", "lft");

async function pump(stream: ReadableStream<Uint8Array>, write: (s: string) => void, keep: string[]): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    keep.push(text);
    write(text);
  }
}

export const launchCommand: CommandEntry = {
  name: "launch",
  doc: "run a recipe data-parallel on N MPI ranks (wraps mpirun; one or many hosts)",
  usage,
  scope: "cli",
  async run(argv, io) {
    if (argv.includes("--help") || argv.includes("-h")) {
      io.stdout(`usage: lft launch ${usage}\n`);
      return ExitCode.ok;
    }
    const plan = parseLaunch(argv);
    if (plan.isErr()) {
      io.stderr(`lft launch: ${plan.error}\nusage: lft launch ${usage}\n`);
      return ExitCode.usage;
    }
    if (!Bun.which("mpirun")) {
      io.stderr("lft launch: mpirun is not installed; install OpenMPI (apt-get install openmpi-bin libopenmpi-dev), or start ranks with srun\n");
      return ExitCode.notAvailable;
    }
    const shim = mpiAvailable();
    if (shim !== true) {
      io.stderr(`lft launch: ${shim}\n`);
      return ExitCode.notAvailable;
    }
    const root = process.getuid?.() === 0;
    const cmd = mpirunCommand(plan.value, LFT, { root, cores: availableParallelism() });
    const child = Bun.spawn(cmd, { cwd: io.cwd, stdin: "inherit", stdout: "pipe", stderr: "pipe" });
    const seen: string[] = [];
    await Promise.all([pump(child.stdout, io.stdout, seen), pump(child.stderr, io.stderr, seen)]);
    const code = await child.exited;
    if (code === 0) return ExitCode.ok;
    const dead = deadRank(seen.join(""));
    const why = dead ?? `mpirun exited with status ${code}`;
    io.stderr(
      `lft launch: the job failed: ${why}; every rank was stopped. Its last checkpoint is in the train output folder: set resume = true in ${plan.value.recipe} and launch again (with any number of ranks)\n`,
    );
    return ExitCode.runFailed;
  },
};
