// Downloads a repo's wanted files at one commit into the Hugging Face cache layout with the official
// client (@huggingface/hub): the commit from the repo's info, the file list from its tree, each file
// through downloadFile's range-capable blob. A file is written to blobs/<etag>.incomplete and resumed
// from its length after a dropped connection (or a later run); its size, and for LFS files its sha256,
// are checked before it is renamed into place and linked from snapshots/<commit>/.
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { datasetInfo, downloadFile, type ListFileEntry, listFiles, modelInfo } from "@huggingface/hub";
import type { CommandIO } from "../../core/index.ts";
import { linkSnapshotFile, type RepoType, repoFolder, writeRef } from "./cache.ts";
import { progressLine } from "./progress.ts";
import type { HubSettings } from "./settings.ts";
import { wantedFile } from "./wanted-files.ts";

export interface DownloadRequest {
  readonly type: RepoType;
  readonly id: string;
  readonly revision: string;
  readonly subdir?: string;
  readonly io?: CommandIO;
  /** Tries per file before giving up (each resumes where the last stopped). */
  readonly attempts?: number;
}

/** Every request carries the token; the client's own check insists on the `hf_` prefix, the Hub does not. */
function authorisedFetch(token: string | undefined): typeof fetch {
  if (token === undefined) return fetch;
  const wrapped = (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set("Authorization", `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  return Object.assign(wrapped, { preconnect: fetch.preconnect }) as typeof fetch;
}

/** Downloads what is missing; returns the snapshot folder. Throws the client's errors (HubApiError) or a check failure. */
export async function downloadRepo(settings: HubSettings, req: DownloadRequest): Promise<string> {
  const fetcher = authorisedFetch(settings.token);
  const common = { hubUrl: settings.endpoint, fetch: fetcher };
  const info =
    req.type === "model"
      ? await modelInfo({ name: req.id, revision: req.revision, additionalFields: ["sha"], ...common })
      : await datasetInfo({ name: req.id, revision: req.revision, additionalFields: ["sha"], ...common });
  const commit = (info as { sha?: string }).sha;
  if (typeof commit !== "string" || commit === "") throw new Error(`the Hub gave no commit for revision "${req.revision}"`);

  const repo = { type: req.type, name: req.id } as const;
  const files: ListFileEntry[] = [];
  for await (const entry of listFiles({ repo, revision: commit, recursive: true, ...common })) {
    if (entry.type === "file" && wantedFile(req.type, entry.path, req.subdir)) files.push(entry);
  }
  if (files.length === 0) throw new Error(`no ${req.type === "model" ? "model" : "data"} files at revision ${commit.slice(0, 12)}`);

  const folder = repoFolder(settings.cacheDir, req.type, req.id);
  mkdirSync(join(folder, "blobs"), { recursive: true });
  for (const [i, file] of files.entries()) {
    const etag = file.lfs?.oid ?? file.oid;
    if (etag === undefined) throw new Error(`${file.path}: the Hub's file list gives no oid`);
    const blob = join(folder, "blobs", etag);
    if (!existsSync(blob)) await fetchBlob(req, file, blob, commit, `${i + 1}/${files.length}`, common);
    linkSnapshotFile(folder, commit, file.path, etag);
  }
  writeRef(folder, req.revision, commit);
  return join(folder, "snapshots", commit);
}

async function fetchBlob(
  req: DownloadRequest,
  file: ListFileEntry,
  blob: string,
  commit: string,
  counter: string,
  common: { hubUrl: string; fetch: typeof fetch },
): Promise<void> {
  const expected = file.lfs?.size ?? file.size;
  const partial = `${blob}.incomplete`;
  const label = `${req.id}: ${file.path} (${counter})`;
  const attempts = req.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const have = existsSync(partial) ? statSync(partial).size : 0;
    if (have > expected) rmSync(partial);
    if (have < expected || !existsSync(partial)) {
      try {
        await fetchRest(req, file.path, commit, partial, expected, label, common);
      } catch (e) {
        if (attempt >= attempts) throw new Error(`${file.path}: download failed after ${attempts} tries: ${e instanceof Error ? e.message : String(e)}`);
        const now = existsSync(partial) ? statSync(partial).size : 0;
        req.io?.stderr(`${label}: connection lost at ${now} of ${expected} bytes; resuming\n`);
        continue;
      }
    }
    break;
  }
  const size = statSync(partial).size;
  if (size !== expected) {
    rmSync(partial);
    throw new Error(`${file.path}: downloaded ${size} bytes, the Hub lists ${expected}; the partial file was removed, run again`);
  }
  if (file.lfs !== undefined) {
    const hasher = new Bun.CryptoHasher("sha256");
    for await (const chunk of Bun.file(partial).stream()) hasher.update(chunk);
    const sha = hasher.digest("hex");
    if (sha !== file.lfs.oid) {
      rmSync(partial);
      throw new Error(`${file.path}: sha256 ${sha} does not match the Hub's ${file.lfs.oid}; the file was removed, run again`);
    }
  }
  renameSync(partial, blob);
}

/** Appends the bytes after what `partial` already holds, with a progress line about once a second. */
async function fetchRest(
  req: DownloadRequest,
  path: string,
  commit: string,
  partial: string,
  expected: number,
  label: string,
  common: { hubUrl: string; fetch: typeof fetch },
): Promise<void> {
  const whole = await downloadFile({ repo: { type: req.type, name: req.id }, path, revision: commit, xet: false, ...common });
  if (whole === null) throw new Error(`${path}: listed in the repo's tree but not downloadable`);
  let done = existsSync(partial) ? statSync(partial).size : 0;
  if (done === 0) appendFileSync(partial, new Uint8Array(0));
  const stream = done === 0 ? whole.stream() : whole.slice(done).stream();
  let shown = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    appendFileSync(partial, chunk);
    done += chunk.length;
    const now = performance.now();
    if (now - shown > 1000 || done === expected) {
      shown = now;
      req.io?.stderr(`${progressLine(label, done, expected)}\n`);
    }
  }
  if (done < expected) throw new Error(`the connection closed at ${done} of ${expected} bytes`);
}
