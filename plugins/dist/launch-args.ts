// How `lft launch` turns its arguments into an mpirun command line: N ranks of `lft <recipe>`, with
// --allow-run-as-root when root, --oversubscribe when a local job has more ranks than cores, and the
// hosts of a multi-node job (--hosts a,b or --hostfile F, passed through to mpirun).
import { err, ok, type Result } from "neverthrow";

export interface LaunchPlan {
  readonly ranks: number;
  readonly recipe: string;
  readonly hosts?: string;
  readonly hostfile?: string;
  /** Arguments after `--`, given to every rank's `lft` (e.g. --set train.lr=1e-4). */
  readonly rest: readonly string[];
}

export interface Machine {
  readonly root: boolean;
  readonly cores: number;
}

export function parseLaunch(argv: readonly string[]): Result<LaunchPlan, string> {
  let ranks: number | undefined;
  let recipe: string | undefined;
  let hosts: string | undefined;
  let hostfile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      if (recipe === undefined) return err("give the recipe before --");
      return finish(argv.slice(i + 1));
    }
    const [name, inline] = arg.startsWith("-") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (name === "-n" || name === "--ranks" || name === "--hosts" || name === "--hostfile") {
      const value = inline ?? argv[++i];
      if (value === undefined) return err(`${name} needs a value`);
      if (name === "--hosts") hosts = value;
      else if (name === "--hostfile") hostfile = value;
      else {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) return err(`${name} must be a positive whole number of ranks, got "${value}"`);
        ranks = n;
      }
      continue;
    }
    if (arg.startsWith("-")) return err(`unknown option ${arg} (options: -n N, --hosts a,b, --hostfile F; lft's own after --)`);
    if (recipe !== undefined) return err(`one recipe per launch, got "${recipe}" and "${arg}"`);
    recipe = arg;
  }
  return finish([]);

  function finish(rest: readonly string[]): Result<LaunchPlan, string> {
    if (ranks === undefined) return err("say how many ranks: -n N");
    if (recipe === undefined) return err("give the recipe to run: lft launch -n N recipe.lft");
    if (hosts !== undefined && hostfile !== undefined) return err("give --hosts or --hostfile, not both");
    return ok({ ranks, recipe, rest, ...(hosts === undefined ? {} : { hosts }), ...(hostfile === undefined ? {} : { hostfile }) });
  }
}

/** The mpirun command line for a plan: `lft` is the path of the lft command every rank runs. */
export function mpirunCommand(plan: LaunchPlan, lft: string, machine: Machine): string[] {
  const cmd = ["mpirun", "-n", String(plan.ranks)];
  if (machine.root) cmd.push("--allow-run-as-root");
  const local = plan.hosts === undefined && plan.hostfile === undefined;
  if (local && plan.ranks > machine.cores) cmd.push("--oversubscribe");
  if (plan.hosts !== undefined) cmd.push("--host", plan.hosts);
  if (plan.hostfile !== undefined) cmd.push("--hostfile", plan.hostfile);
  cmd.push(lft, plan.recipe, ...plan.rest);
  return cmd;
}

/** mpirun's note on a rank that died ("process rank 1 with PID ... exited on signal 9 (Killed)"), as one line. */
export function deadRank(mpirunOutput: string): string | null {
  const m = /process rank (\d+) with PID \S+ on node (\S+) exited on signal (\d+)(?: \(([^)]+)\))?/.exec(mpirunOutput);
  if (m) return `rank ${m[1]} (on ${m[2]}) was killed by signal ${m[3]}${m[4] ? ` (${m[4]})` : ""}`;
  const exited = /Process name: \[\[\d+,\d+\],(\d+)\]\s+Exit code:\s+(\d+)/.exec(mpirunOutput);
  if (exited) return `rank ${exited[1]} exited with status ${exited[2]}`;
  return null;
}
