// What the board offers to pick from: model folders (a config.json inside) under ./models, the
// examples' models, the Hugging Face cache's snapshots and exports under ./runs; adapter folders (an
// adapter_config.json) under ./runs; dataset folders (a dataset_info.json).

import { existsSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative, resolve } from "node:path";

/** The repository this board runs from (dsl/board/server -> the root). */
export const repoRoot = resolve(import.meta.dir, "..", "..", "..");

function subfolders(dir: string): string[] {
  try {
    return readdirSync(dir)
      .map((name) => join(dir, name))
      .filter((p) => {
        try {
          return statSync(p).isDirectory();
        } catch {
          return false;
        }
      })
      .sort();
  } catch {
    return [];
  }
}

/** Shown relative to the working folder when inside it, absolute otherwise. */
function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== "" && !rel.startsWith("..") ? rel : path;
}

function hubCache(env: Readonly<Record<string, string | undefined>>): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, "hub");
  return join(env.HOME || homedir(), ".cache", "huggingface", "hub");
}

export function findModels(cwd: string, env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const candidates = [
    ...subfolders(join(cwd, "models")),
    ...subfolders(join(repoRoot, "examples", "models")),
    ...subfolders(hubCache(env)).flatMap((repo) => subfolders(join(repo, "snapshots"))),
    ...runOutputs(cwd),
  ];
  const found = candidates.filter((dir) => existsSync(join(dir, "config.json"))).map((dir) => shown(dir, cwd));
  return [...new Set(found)];
}

export function findDatasetDirs(cwd: string): string[] {
  const candidates = [join(cwd, "data"), cwd, join(repoRoot, "examples", "data"), ...subfolders(join(cwd, "data"))];
  return [...new Set(candidates.filter((dir) => existsSync(join(dir, "dataset_info.json"))).map((dir) => shown(dir, cwd)))];
}

/** Run folders and the folders inside them (checkpoints, exports): ./runs/<name>[/<sub>]. */
function runOutputs(cwd: string): string[] {
  return subfolders(join(cwd, "runs")).flatMap((run) => [run, ...subfolders(run)]);
}

export function findAdapters(cwd: string): string[] {
  return runOutputs(cwd)
    .filter((dir) => existsSync(join(dir, "adapter_config.json")))
    .map((dir) => shown(dir, cwd));
}
