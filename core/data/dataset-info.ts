// LLaMA-Factory's dataset_info.json: one entry per dataset name, telling where its rows live and how
// to read them (formatting, columns, tags, ranking, split, num_samples). Parsed exactly as
// LLaMA-Factory's DatasetAttr does, including its rule that a `columns` (or `tags`) object replaces
// all the defaults: a column it does not list is unset, not defaulted.

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { pathKind } from "../io/regular-file.ts";
import { describe } from "../registry/options.ts";
import { didYouMean, suggest } from "../registry/suggest.ts";
import { DataError } from "./problems.ts";

export const COLUMN_NAMES = [
  "prompt",
  "query",
  "response",
  "history",
  "messages",
  "system",
  "tools",
  "images",
  "videos",
  "audios",
  "chosen",
  "rejected",
  "kto_tag",
] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];
export type Columns = { readonly [K in ColumnName]?: string };

export const TAG_NAMES = ["role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"] as const;
export type TagName = (typeof TAG_NAMES)[number];
export type Tags = { readonly [K in TagName]?: string };

/** LLaMA-Factory's defaults when an entry has no `columns` / `tags` object. */
export const DEFAULT_COLUMNS: Columns = { prompt: "instruction", query: "input", response: "output", messages: "conversations" };
export const DEFAULT_TAGS: Tags = {
  role_tag: "from",
  content_tag: "value",
  user_tag: "human",
  assistant_tag: "gpt",
  observation_tag: "observation",
  function_tag: "function_call",
  system_tag: "system",
};

export interface DatasetAttr {
  /** The entry's key in dataset_info.json (or the file name for a dataset given directly). */
  readonly name: string;
  /** Where the rows are; only `file` needs no download. */
  readonly loadFrom: "file" | "hf_hub" | "ms_hub" | "om_hub" | "script" | "cloud_file";
  /** The file or folder (relative to the dataset dir) for `file`, else the hub id / script / URL. */
  readonly path: string;
  /** A dataset format in the registry (`alpaca`, `sharegpt`, `openai`, ...). */
  readonly formatting: string;
  readonly ranking: boolean;
  readonly subset?: string;
  readonly split: string;
  readonly folder?: string;
  readonly numSamples?: number;
  readonly columns: Columns;
  readonly tags: Tags;
  /**
   * The folder the entry's files must stay inside after ".." and symlinks are resolved: the folder of
   * the dataset_info.json it came from, or a hub repo's cache folder. Undefined for a path the user
   * named directly (in a recipe or on the command line): reading it is the user's own choice.
   */
  readonly root?: string;
}

/**
 * Marks a dataset_info entry with the folder its files must stay inside. A symbol, not a key, so that
 * no JSON file can set or forge it; object spread keeps it when an entry is copied and changed.
 */
export const DATASET_ROOT: unique symbol = Symbol("lft.datasetRoot");

/** The entry, copied, confined to `root` (the folder of the dataset_info.json it was read from). */
export function confinedEntry<T extends object>(entry: T, root: string): T & { [DATASET_ROOT]: string } {
  return { ...entry, [DATASET_ROOT]: resolve(root) };
}

const SOURCE_KEYS = ["hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name", "file_name"] as const;
const KNOWN_KEYS = [...SOURCE_KEYS, "formatting", "ranking", "subset", "split", "folder", "num_samples", "columns", "tags", "revision", "file_sha1"];

export type DatasetInfo = Readonly<Record<string, unknown>>;

/** A dataset_info.json larger than this is refused (LLaMA-Factory's own, with 100+ entries, is 18 KB). */
export const MAX_DATASET_INFO_BYTES = 64 * 1024 * 1024;

/** The text of a dataset_info.json: a regular file (asked before opening) of at most MAX_DATASET_INFO_BYTES. */
export function readDatasetInfoText(path: string): Result<string, DataError> {
  const kind = pathKind(path);
  if (kind.kind === "missing") return err(new DataError(`${path}: ${kind.detail} (a dataset dir needs a dataset_info.json)`));
  if (kind.kind !== "file") return err(new DataError(`${path}: expected a JSON file, found ${kind.kind === "folder" ? "a folder" : kind.what}`));
  if (kind.size > MAX_DATASET_INFO_BYTES)
    return err(new DataError(`${path}: ${kind.size} bytes, over the ${MAX_DATASET_INFO_BYTES}-byte limit for a dataset_info.json`));
  try {
    return ok(readFileSync(path, "utf8"));
  } catch (e) {
    return err(new DataError(`${path}: cannot be read: ${(e as Error).message}`));
  }
}

/**
 * Reads `dir/dataset_info.json`. Entries are checked one by one when a dataset is asked for; each is
 * confined to `dir` (its files must resolve inside it).
 */
export async function loadDatasetInfo(dir: string): Promise<Result<DatasetInfo, DataError>> {
  const path = join(dir, "dataset_info.json");
  const text = readDatasetInfoText(path);
  if (text.isErr()) return err(text.error);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.value);
  } catch (e) {
    return err(new DataError(`${path}: not valid JSON: ${(e as Error).message}`));
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return err(new DataError(`${path}: expected an object of dataset entries, found ${describe(parsed)}`));
  }
  const entries = Object.entries(parsed).map(([name, entry]) => [
    name,
    typeof entry === "object" && entry !== null && !Array.isArray(entry) ? confinedEntry(entry, dir) : entry,
  ]);
  return ok(Object.fromEntries(entries) as DatasetInfo);
}

/** The attributes of dataset `name`, every field type-checked; errors name the file and the key. */
export function datasetAttr(info: DatasetInfo, name: string, where = "dataset_info.json"): Result<DatasetAttr, DataError> {
  const raw = info[name];
  if (raw === undefined) {
    const hint = didYouMean(suggest(name, Object.keys(info)));
    return err(new DataError(`${where}: undefined dataset "${name}"${hint}`));
  }
  const at = `${where}: dataset "${name}"`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return err(new DataError(`${at}: expected an object, found ${describe(raw)}`));
  const entry = raw as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (!KNOWN_KEYS.includes(key)) return err(new DataError(`${at}: unknown key "${key}"${didYouMean(suggest(key, KNOWN_KEYS))}`));
  }
  const str = (key: string): Result<string | undefined, DataError> => {
    const v = entry[key];
    if (v === undefined || v === null) return ok(undefined);
    return typeof v === "string" ? ok(v) : err(new DataError(`${at}: "${key}" must be a string, found ${describe(v)}`));
  };

  // Source, in LLaMA-Factory's order of preference (hub ids win over a local file name).
  let loadFrom: DatasetAttr["loadFrom"] | undefined;
  let path = "";
  for (const key of SOURCE_KEYS) {
    const v = str(key);
    if (v.isErr()) return err(v.error);
    if (v.value !== undefined && loadFrom === undefined) {
      loadFrom =
        key === "file_name"
          ? "file"
          : key === "cloud_file_name"
            ? "cloud_file"
            : key === "script_url"
              ? "script"
              : (key.replace("_url", "") as DatasetAttr["loadFrom"]);
      path = v.value;
    }
  }
  if (loadFrom === undefined) return err(new DataError(`${at}: needs one of ${SOURCE_KEYS.map((k) => `"${k}"`).join(", ")}`));

  const formatting = str("formatting");
  const subset = str("subset");
  const split = str("split");
  const folder = str("folder");
  for (const r of [formatting, subset, split, folder]) if (r.isErr()) return err(r.error);
  const ranking = entry.ranking ?? false;
  if (typeof ranking !== "boolean") return err(new DataError(`${at}: "ranking" must be true or false, found ${describe(ranking)}`));
  const numSamples = entry.num_samples;
  if (numSamples !== undefined && numSamples !== null && (typeof numSamples !== "number" || !Number.isInteger(numSamples) || numSamples < 1)) {
    return err(new DataError(`${at}: "num_samples" must be a positive integer, found ${describe(numSamples)}`));
  }

  const columns = namedStrings(entry.columns, COLUMN_NAMES, `${at}: columns`);
  if (columns.isErr()) return err(columns.error);
  const tags = namedStrings(entry.tags, TAG_NAMES, `${at}: tags`);
  if (tags.isErr()) return err(tags.error);

  const root = (entry as { [DATASET_ROOT]?: unknown })[DATASET_ROOT];
  return ok({
    name,
    loadFrom,
    path,
    formatting: formatting._unsafeUnwrap() ?? "alpaca",
    ranking,
    subset: subset._unsafeUnwrap(),
    split: split._unsafeUnwrap() ?? "train",
    folder: folder._unsafeUnwrap(),
    numSamples: (numSamples ?? undefined) as number | undefined,
    columns: columns.value ?? DEFAULT_COLUMNS,
    tags: tags.value ?? DEFAULT_TAGS,
    ...(typeof root === "string" && { root }),
  });
}

/** A dataset given as a file rather than a dataset_info entry, with LLaMA-Factory's defaults filled in. */
export function fileDatasetAttr(
  path: string,
  opts: { formatting?: string; ranking?: boolean; columns?: Columns; tags?: Tags; numSamples?: number } = {},
): DatasetAttr {
  return {
    name: path,
    loadFrom: "file",
    path,
    formatting: opts.formatting ?? "alpaca",
    ranking: opts.ranking ?? false,
    split: "train",
    numSamples: opts.numSamples,
    columns: opts.columns ?? DEFAULT_COLUMNS,
    tags: opts.tags ?? DEFAULT_TAGS,
  };
}

function namedStrings<K extends string>(value: unknown, names: readonly K[], at: string): Result<{ readonly [P in K]?: string } | undefined, DataError> {
  if (value === undefined) return ok(undefined);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return err(new DataError(`${at} must be an object, found ${describe(value)}`));
  const out: { [P in K]?: string } = {};
  for (const [key, v] of Object.entries(value)) {
    if (!(names as readonly string[]).includes(key)) {
      return err(new DataError(`${at}: unknown name "${key}"${didYouMean(suggest(key, names))}; known: ${names.join(", ")}`));
    }
    if (v === null) continue;
    if (typeof v !== "string") return err(new DataError(`${at}: "${key}" must be a string, found ${describe(v)}`));
    out[key as K] = v;
  }
  return ok(out);
}
