// Answers resolveRepoSource: the cached snapshot when the cache already holds the revision (so a
// machine with transformers' cache downloads nothing), else a download into that same cache, unless
// HF_HUB_OFFLINE forbids it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RepoSourceAnswer, RepoSourceRequest } from "../../core/index.ts";
import { cachedCommit, datasetSnapshotComplete, modelSnapshotComplete, repoFolder } from "./cache.ts";
import { downloadRepo } from "./download.ts";
import { hubFailure } from "./messages.ts";
import { type HubSettings, hubSettings } from "./settings.ts";

/** The cached snapshot folder of a model or dataset revision, without downloading (undefined when not cached). */
export function cachedSnapshot(type: "model" | "dataset", id: string, revision = "main", settings: HubSettings = hubSettings()): string | undefined {
  const folder = repoFolder(settings.cacheDir, type, id);
  const commit = cachedCommit(folder, revision);
  if (commit === undefined) return undefined;
  const dir = join(folder, "snapshots", commit);
  return existsSync(dir) ? dir : undefined;
}

export async function resolveFromHub(req: RepoSourceRequest, settings: HubSettings = hubSettings()): Promise<RepoSourceAnswer> {
  const revision = req.revision ?? "main";
  const what = `${req.type} "${req.id}"${req.revision === undefined ? "" : ` at revision ${revision}`}`;
  const folder = repoFolder(settings.cacheDir, req.type, req.id);
  const commit = cachedCommit(folder, revision);
  if (commit !== undefined) {
    const dir = join(folder, "snapshots", commit);
    if (req.type === "model" ? modelSnapshotComplete(dir) : datasetSnapshotComplete(dir, req.subdir)) return { ok: true, dir };
  }
  if (settings.offline)
    return {
      ok: false,
      message: `${what}: not in the Hugging Face cache (${folder}) and HF_HUB_OFFLINE is set, so lft may not download it; run once with network access (unset HF_HUB_OFFLINE), or give a local folder`,
    };
  req.io?.stderr(`${what}: downloading from ${settings.endpoint} into ${settings.cacheDir}\n`);
  try {
    const dir = await downloadRepo(settings, {
      type: req.type,
      id: req.id,
      revision,
      ...(req.subdir && { subdir: req.subdir }),
      ...(req.io && { io: req.io }),
    });
    if (req.type === "model" && !modelSnapshotComplete(dir))
      return { ok: false, message: `${what}: downloaded, but it has no config.json and safetensors weights; lft loads Hugging Face safetensors checkpoints` };
    return { ok: true, dir };
  } catch (e) {
    return { ok: false, message: hubFailure(e, what, settings.token !== undefined) };
  }
}
