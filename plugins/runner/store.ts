// The run store for a session (the user's store, see core/store/location.ts), what a train action records into it (the
// recipe's text, its settings, the git revision read from .git without running git), and where the
// store is for messages.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import type { ResolvedRecipe } from "../../core/index.ts";
import { type RunInfo, RunStore, runStorePath, type StoreError } from "../../core/index.ts";

export function storePath(cwd: string): string {
  return runStorePath(process.env, cwd);
}

export function openStore(cwd: string): ReturnType<typeof RunStore.open> {
  return RunStore.open(storePath(cwd));
}

/** The recipe's text when it is a file; its resolved form otherwise (the REPL). */
function recipeText(recipe: ResolvedRecipe, cwd: string): string {
  const file = resolve(cwd, recipe.file);
  try {
    if (existsSync(file)) return readFileSync(file, "utf8");
  } catch {
    // unreadable now: fall through to the resolved form
  }
  return JSON.stringify(recipe, null, 2);
}

/** HEAD's commit, read from the nearest .git folder above `dir`; undefined outside a repository. */
export function gitRevision(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const git = join(d, ".git");
    if (existsSync(join(git, "HEAD"))) {
      try {
        const head = readFileSync(join(git, "HEAD"), "utf8").trim();
        if (!head.startsWith("ref: ")) return head;
        const ref = head.slice(5);
        if (existsSync(join(git, ref))) return readFileSync(join(git, ref), "utf8").trim();
        const packed = existsSync(join(git, "packed-refs")) ? readFileSync(join(git, "packed-refs"), "utf8") : "";
        return packed
          .split("\n")
          .find((l) => l.endsWith(` ${ref}`))
          ?.split(" ")[0];
      } catch {
        return undefined;
      }
    }
    if (dirname(d) === d) return undefined;
  }
}

export function runInfo(recipe: ResolvedRecipe, cwd: string, name: string, config: Readonly<Record<string, unknown>>): RunInfo {
  const revision = gitRevision(recipe.baseDir);
  return { name, recipe: recipeText(recipe, cwd), config, ...(revision === undefined ? {} : { gitRevision: revision }) };
}

/** A run id for an action that is not a training run: `<kind>-<yyyymmdd-hhmmss>-<pid>-<random>`. */
function actionRunId(kind: string): string {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${kind}-${d}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
}

/** What an eval-only or predict-only action leaves in the store: its metrics (at step 0) and files. */
export interface ActionRecord {
  readonly kind: "eval" | "predict";
  readonly recipe: ResolvedRecipe;
  readonly cwd: string;
  readonly source?: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly artifacts?: readonly { kind: string; path: string }[];
  readonly interrupted?: boolean;
  readonly startedAt: number;
}

/**
 * Records an eval or predict that ran without a training run of its own as a run of its own, so
 * `lft runs` lists it with its metrics. Returns the run id, or why it was not recorded.
 */
export function recordActionRun(a: ActionRecord): Result<string, StoreError> {
  const store = openStore(a.cwd);
  if (store.isErr()) return err(store.error);
  const id = actionRunId(a.kind);
  const config = { model: a.recipe.model, action: a.kind, ...(a.source === undefined ? {} : { source: a.source }) };
  const name = `${a.recipe.file} · ${a.kind}${a.source === undefined ? "" : ` ${a.source}`}`;
  try {
    const done = store.value
      .startRun({ ...runInfo(a.recipe, a.cwd, name, config), id, totalSteps: 0, startedAt: a.startedAt })
      .andThen(() => store.value.recordMetrics(id, 0, a.metrics, false))
      .andThen(() => {
        for (const art of a.artifacts ?? []) {
          const added = store.value.addArtifact(id, art);
          if (added.isErr()) return added;
        }
        return ok(undefined);
      })
      .andThen(() => store.value.endRun(id, a.interrupted ? "interrupted" : "completed", { step: 0 }));
    return done.map(() => id);
  } finally {
    store.value.close();
  }
}

/** Adds an action's metrics (not advancing the run's step) and files to an existing run. */
export function recordOnRun(
  cwd: string,
  runId: string,
  step: number,
  metrics: Readonly<Record<string, number>>,
  artifacts: readonly { kind: string; path: string }[] = [],
): Result<string, StoreError> {
  const store = openStore(cwd);
  if (store.isErr()) return err(store.error);
  try {
    let done = store.value.recordMetrics(runId, step, metrics, false);
    for (const a of artifacts) done = done.andThen(() => store.value.addArtifact(runId, { ...a, step }));
    return done.map(() => runId);
  } finally {
    store.value.close();
  }
}
