// The runner's side of the output lock (core/run/output-lock.ts): every train action's output folder
// is locked before the model loads and stays locked until the recipe's run ends, however it ends.
import { err, ok, type Result } from "neverthrow";
import { type CommandIO, lockOutput, type OutputLock, type OutputLockError, type ResolvedRecipe } from "../../core/index.ts";
import { shown, trainOutput } from "./paths.ts";
import { warn } from "./scope.ts";

/** Output folder → its lock, for every train action of the recipe; all or none. */
export function lockTrainOutputs(recipe: ResolvedRecipe, io: CommandIO): Result<Map<string, OutputLock>, OutputLockError> {
  const locks = new Map<string, OutputLock>();
  for (const action of recipe.actions) {
    if (action.action !== "train") continue;
    const dir = trainOutput(recipe, action);
    if (locks.has(dir)) continue;
    const taken = lockOutput(dir, `${recipe.file} · train ${action.stage}`);
    if (taken.isErr()) {
      releaseAll(locks);
      return err(taken.error);
    }
    const stale = taken.value.tookOver;
    if (stale !== undefined)
      warn(
        io,
        `took over the lock on ${shown(dir, io.cwd)} left by process ${stale.pid} on ${stale.host}${stale.run === null ? "" : ` (run ${stale.run})`}, which is no longer running`,
      );
    locks.set(dir, taken.value.lock);
  }
  return ok(locks);
}

export function releaseAll(locks: ReadonlyMap<string, OutputLock>): void {
  for (const lock of locks.values()) lock.release();
}
