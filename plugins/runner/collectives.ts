// The job's communicator for a recipe run: opened once per process (MPI_Init happens once), from the
// first train action's `collectives` option (default auto: mpi under mpirun/srun/lft launch, else one
// rank). Ranks other than 0 train in step with rank 0 but print nothing, hold no output lock and skip
// the other actions (eval, predict, export, chat), which rank 0 runs alone.
import { err, ok, type Result } from "neverthrow";
import type { Collectives, CommandIO, Registry, ResolvedRecipe } from "../../core/index.ts";
import { openCollectives } from "../dist/index.ts";

const opened = new Map<string, Collectives>();

/** The engine the recipe asks for ("auto" when it names none). */
export function requestedEngine(recipe: ResolvedRecipe): string {
  const train = recipe.actions.find((a) => a.action === "train");
  const named = train?.action === "train" ? train.options.collectives : undefined;
  return typeof named === "string" ? named : "auto";
}

export function jobCollectives(registry: Registry, recipe: ResolvedRecipe): Result<Collectives, Error> {
  const requested = requestedEngine(recipe);
  const cached = opened.get(requested);
  if (cached) return ok(cached);
  const made = openCollectives(registry, requested);
  if (made.isErr()) return err(new Error(`collectives: ${made.error.message}`));
  opened.set(requested, made.value);
  return ok(made.value);
}

/** Rank 0 speaks for the job; the others stay quiet (their failures abort the job with their rank named). */
export function rankIO(io: CommandIO, collectives: Collectives): CommandIO {
  if (collectives.rank === 0) return io;
  return { ...io, stdout: () => {}, stderr: () => {} };
}
