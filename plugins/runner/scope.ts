// What every action sees: the recipe, the registry, where to print, the abort signal and the model.
import type { Collectives, CommandIO, OutputLock, Registry, ResolvedRecipe } from "../../core/index.ts";
import type { ModelState } from "./state.ts";

export interface Scope {
  readonly recipe: ResolvedRecipe;
  readonly registry: Registry;
  readonly io: CommandIO;
  readonly signal: AbortSignal;
  readonly state: ModelState;
  /** The locks this run holds on its train outputs (output folder → lock). */
  readonly outputLocks?: ReadonlyMap<string, OutputLock>;
  /** The REPL's line reader for interactive actions (RunContext.readLine); stdin when absent. */
  readonly readLine?: (prompt: string) => Promise<string | undefined>;
  /** The job's communicator (one rank unless started by mpirun, srun or lft launch). */
  readonly collectives?: Collectives;
}

/** What an action ended as; failures travel as Err(RunFailure). */
export type ActionEnd = "done" | "interrupted";

export function say(io: CommandIO, line: string): void {
  io.stdout(`${line}\n`);
}

export function warn(io: CommandIO, line: string): void {
  io.stderr(`warning: ${line}\n`);
}
