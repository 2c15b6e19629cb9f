// A dataset_info entry whose rows are on a hub, made local: `hf_hub_url` goes to the resolveRepoSource
// hook (lft-hub: the Hugging Face cache, downloading when missing) and the entry becomes a folder entry
// (`file_name` = the snapshot), so `folder`, `subset` and `split` pick inside it as for any folder.
// Hubs no plugin serves (ModelScope, Modelers, loading scripts, cloud files) are refused by name. The
// entry stays confined: to the repo's cache folder instead of the dataset_info.json's folder.

import { basename, dirname, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { resolveRepoSource } from "../io/repo-source.ts";
import type { CommandIO } from "../registry/collections.ts";
import type { Registry } from "../registry/registry.ts";
import { confinedEntry } from "./dataset-info.ts";
import { DataError } from "./problems.ts";

const UNSUPPORTED: Readonly<Record<string, string>> = {
  ms_hub_url: "ModelScope (ms_hub_url)",
  om_hub_url: "Modelers (om_hub_url)",
  script_url: "a loading script (script_url)",
  cloud_file_name: "cloud storage (cloud_file_name)",
};

/** The entry unchanged when it names local files; a local folder entry for `hf_hub_url`; an error for other hubs. */
export async function localDatasetEntry(
  entry: Readonly<Record<string, unknown>>,
  name: string,
  registry: Registry,
  io?: CommandIO,
): Promise<Result<Record<string, unknown>, DataError>> {
  const id = entry.hf_hub_url;
  if (typeof id !== "string") {
    for (const [key, hub] of Object.entries(UNSUPPORTED))
      if (typeof entry[key] === "string")
        return err(
          new DataError(
            `dataset "${name}": ${hub} is not supported by lft; download the files and give them as file_name, or use the dataset's Hugging Face copy as hf_hub_url`,
          ),
        );
    return ok({ ...entry });
  }
  const subdir = [entry.folder, entry.subset].filter((p): p is string => typeof p === "string").join("/");
  const revision = typeof entry.revision === "string" ? entry.revision : undefined;
  const dir = await resolveRepoSource(registry, { type: "dataset", id, ...(revision && { revision }), ...(subdir !== "" && { subdir }), ...(io && { io }) });
  if (dir.isErr()) return err(new DataError(`dataset "${name}": ${dir.error.message}`));
  const { hf_hub_url: _, revision: __, ...rest } = entry;
  return ok(confinedEntry({ ...rest, file_name: dir.value }, hubRepoRoot(dir.value)));
}

/**
 * The folder a hub snapshot's files may lead into: in the Hugging Face cache a snapshot's files are
 * symlinks to `../../blobs`, so the repo's folder (`datasets--org--name`); otherwise the folder itself.
 */
export function hubRepoRoot(snapshot: string): string {
  const parent = dirname(resolve(snapshot));
  return basename(parent) === "snapshots" ? dirname(parent) : resolve(snapshot);
}
