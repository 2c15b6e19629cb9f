// The Hugging Face cache layout (shared with transformers and huggingface_hub):
//   <cache>/models--org--name/refs/<revision>        the commit a branch or tag pointed at
//   <cache>/models--org--name/blobs/<etag>           file contents, named by git oid or LFS sha256
//   <cache>/models--org--name/snapshots/<commit>/... relative symlinks into blobs/
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

export type RepoType = "model" | "dataset";

export const COMMIT = /^[0-9a-f]{40}$/;

export function repoFolder(cacheDir: string, type: RepoType, id: string): string {
  return join(cacheDir, [`${type}s`, ...id.split("/")].join("--"));
}

/** The commit a revision names in the cache: itself when it is a commit, else refs/<revision>. */
export function cachedCommit(folder: string, revision: string): string | undefined {
  if (COMMIT.test(revision)) return revision;
  const ref = join(folder, "refs", revision);
  if (!existsSync(ref)) return undefined;
  const sha = readFileSync(ref, "utf8").trim();
  return COMMIT.test(sha) ? sha : undefined;
}

export function writeRef(folder: string, revision: string, commit: string): void {
  if (revision === commit) return;
  const ref = join(folder, "refs", revision);
  mkdirSync(dirname(ref), { recursive: true });
  writeFileSync(ref, commit);
}

/** Points snapshots/<commit>/<path> at blobs/<etag> with a relative link, as huggingface_hub does. */
export function linkSnapshotFile(folder: string, commit: string, path: string, etag: string): void {
  const pointer = join(folder, "snapshots", commit, path);
  mkdirSync(dirname(pointer), { recursive: true });
  if (existsSync(pointer) || isLink(pointer)) unlinkSync(pointer);
  symlinkSync(relative(dirname(pointer), join(folder, "blobs", etag)), pointer);
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

const WEIGHTS = /^(model|pytorch_model|consolidated)?.*\.safetensors$/;

/**
 * A cached model snapshot is usable when it has config.json and its weights: every shard its
 * safetensors index lists, or a single *.safetensors file. A half-finished download is not usable.
 */
export function modelSnapshotComplete(dir: string): boolean {
  if (!existsSync(join(dir, "config.json"))) return false;
  const index = join(dir, "model.safetensors.index.json");
  if (existsSync(index)) {
    try {
      const map = (JSON.parse(readFileSync(index, "utf8")) as { weight_map?: Record<string, string> }).weight_map ?? {};
      return Object.values(map).every((shard) => existsSync(join(dir, shard)));
    } catch {
      return false;
    }
  }
  return readdirSync(dir).some((f) => WEIGHTS.test(f) && existsSync(join(dir, f)));
}

/** A cached dataset snapshot is usable when the asked folder exists and holds at least one file. */
export function datasetSnapshotComplete(dir: string, subdir?: string): boolean {
  const at = subdir ? join(dir, subdir) : dir;
  return existsSync(at) && readdirSync(at, { recursive: true }).length > 0;
}
