// Which collectives engine a run joins: the one the recipe or CLI names, else the one whose launcher
// started this process (mpirun sets OMPI_COMM_WORLD_SIZE, srun/PMI set PMI_SIZE), else one rank.
import { err, type Result } from "neverthrow";
import { CollectiveError, type Collectives, type Registry } from "../../core/index.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** The engine name to use: `requested` unless "auto"/undefined, else the launcher's engine, else "single". */
export function chooseEngine(registry: Registry, requested: string | undefined, env: Env): string {
  if (requested !== undefined && requested !== "auto") return requested;
  const launched = registry.list("collectives").find((e) => e.launchedBy(env));
  return launched?.name ?? "single";
}

/** Opens the chosen engine's communicator (every rank must call this). */
export function openCollectives(registry: Registry, requested: string | undefined, env: Env = process.env): Result<Collectives, CollectiveError> {
  const name = chooseEngine(registry, requested, env);
  const found = registry.get("collectives", name);
  if (found.isErr()) return err(new CollectiveError("unavailable", found.error.message));
  const entry = found.value;
  const available = entry.available();
  if (available !== true) return err(new CollectiveError("unavailable", `collectives engine "${name}" cannot run here: ${available}`));
  return entry.open();
}
