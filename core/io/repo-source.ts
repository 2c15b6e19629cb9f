// Where a model or dataset named by a hub id (`org/name[@revision]`) lives on this machine: the
// `resolveRepoSource` hook. Core only states the question and the rule that a local folder wins; a
// plugin (lft's is plugins/hub) answers it from a cache or by downloading, so core never talks HTTP.

import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import type { CommandIO } from "../registry/collections.ts";
import type { FirstHook } from "../registry/hooks.ts";
import type { Registry } from "../registry/registry.ts";

export interface RepoSourceRequest {
  readonly type: "model" | "dataset";
  /** `org/name` (or `name`), without the revision. */
  readonly id: string;
  /** Branch, tag or commit; undefined means the repo's default branch ("main"). */
  readonly revision?: string;
  /** Only files below this folder of the repo (a dataset's `folder` / `subset`). */
  readonly subdir?: string;
  /** Progress and notes go to io.stderr. */
  readonly io?: CommandIO;
}

/** A local folder holding the repo's files at the asked revision, or why there is none. */
export type RepoSourceAnswer = { readonly ok: true; readonly dir: string } | { readonly ok: false; readonly message: string };

declare module "../registry/hooks.ts" {
  interface HookTypes {
    /** The first plugin that knows the id's hub answers; declared by the plugin that resolves ids. */
    resolveRepoSource: FirstHook<[RepoSourceRequest], RepoSourceAnswer>;
  }
}

export interface RepoId {
  readonly id: string;
  readonly revision?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `org/name` or `org/name@rev` as a hub id; undefined when the text cannot be one (a path like ./x, /x, a/b/c). */
export function parseRepoId(text: string): RepoId | undefined {
  const at = text.indexOf("@");
  const id = at < 0 ? text : text.slice(0, at);
  const revision = at < 0 ? undefined : text.slice(at + 1);
  if (revision !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(revision)) return undefined;
  const parts = id.split("/");
  if (parts.length !== 2 || !parts.every((p) => NAME.test(p) && !p.includes("..") && p !== ".")) return undefined;
  return revision === undefined ? { id } : { id, revision };
}

/** Asks the loaded plugins for a hub repo's local folder. */
export async function resolveRepoSource(registry: Registry, request: RepoSourceRequest): Promise<Result<string, Error>> {
  const answer = await registry.callFirst("resolveRepoSource", request);
  if (answer.isErr()) {
    if (answer.error.reason === "undeclared") return err(new Error(`"${request.id}" is a hub id, but no loaded plugin resolves hub ids (lft's is lft-hub)`));
    return err(new Error(answer.error.message));
  }
  if (answer.value === undefined) return err(new Error(`"${request.id}": no loaded plugin could resolve this ${request.type} id`));
  return answer.value.ok ? ok(answer.value.dir) : err(new Error(answer.value.message));
}

/**
 * A model block's path as a folder: an existing local folder always wins; otherwise an `org/name[@rev]`
 * id goes to the hook; anything else is returned as the local path it names (the loader says what is missing).
 */
export async function resolveModelPath(registry: Registry, path: string, baseDir: string, io?: CommandIO): Promise<Result<string, Error>> {
  const local = isAbsolute(path) ? path : resolve(baseDir, path);
  if (existsSync(local) && statSync(local).isDirectory()) return ok(local);
  const repo = parseRepoId(path);
  if (repo === undefined) return ok(local);
  const dir = await resolveRepoSource(registry, { type: "model", ...repo, ...(io && { io }) });
  // `models/x` may have meant a local folder: say that it is not there either.
  return dir.mapErr((e) => new Error(`${e.message} (and there is no local folder ${local})`));
}
