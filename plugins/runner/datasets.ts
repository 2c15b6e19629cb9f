// Recipe data blocks → dataset_info entries for the data worker. A source that is a file or folder
// gets an entry made for it (absolute file_name; formatting, ranking and columns from the block's
// format, as dataset_info.json would say them); any other source is a dataset name looked up in
// `<dir>/dataset_info.json` (dir defaults to "data" beside the recipe), its file_name made absolute and
// the entry confined to that folder (core/data/read/files.ts refuses files that resolve outside it).
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import type { CommandIO, ResolvedRecipe } from "../../core/index.ts";
import {
  COLUMN_NAMES,
  confinedEntry,
  type DatasetInfo,
  DEFAULT_COLUMNS,
  DEFAULT_READ_LIMITS,
  datasetAttr,
  datasetFiles,
  didYouMean,
  fileDatasetAttr,
  fileType,
  formatNameOf,
  localDatasetEntry,
  type ReadLimits,
  type Registry,
  type ResolvedOptions,
  readDatasetInfoText,
  readFile,
  readLimits,
  suggest,
  TAG_NAMES,
} from "../../core/index.ts";
import { fail, messageOf, type RunFailure } from "./failure.ts";
import { recipePath, shown } from "./paths.ts";

/** One data block (or an eval/predict source): the format word, the quoted source, its options. */
export interface DataSource {
  readonly format?: string;
  readonly source: string;
  readonly options: ResolvedOptions;
}

export interface DataSelection {
  readonly info: DatasetInfo;
  /** Entry names in the recipe's order. */
  readonly names: readonly string[];
  /** What the summary calls them: `data/identity.json (alpaca)`. */
  readonly labels: readonly string[];
  /** Options of dataOptionSchema the blocks decide: max_samples (when one for all), mix_strategy, interleave_probs, the readers' limits. */
  readonly mix: Record<string, unknown>;
}

/** Formats whose rows may be alpaca-shaped or conversations: the file's first row decides. */
const FORMATS_BY_SHAPE = ["pairwise", "kto"];
const SHAPE_COLUMNS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  alpaca: DEFAULT_COLUMNS as Record<string, string>,
  sharegpt: { messages: "conversations" },
  openai: { messages: "messages" },
};

export async function selectData(
  recipe: Pick<ResolvedRecipe, "baseDir">,
  sources: readonly DataSource[],
  registry: Registry,
  cwd: string,
  io?: CommandIO,
): Promise<Result<DataSelection, RunFailure>> {
  const info: Record<string, unknown> = {};
  const names: string[] = [];
  const labels: string[] = [];
  for (const source of sources) {
    const made = await entryFor(recipe, source, registry, cwd, io);
    if (made.isErr()) return err(made.error);
    let name = source.source;
    for (let i = 2; Object.hasOwn(info, name); i++) name = `${source.source}#${i}`;
    info[name] = made.value.entry;
    names.push(name);
    labels.push(made.value.label);
  }
  const mix = mixOptions(sources);
  const limits = readLimits({ max_json_bytes: DEFAULT_READ_LIMITS.maxJsonBytes, max_row_chars: DEFAULT_READ_LIMITS.maxRowChars, ...mix });
  const limited = await limitRows(info, names, sources, recipe.baseDir, limits);
  if (limited.isErr()) return err(limited.error);
  return ok({ info, names, labels, mix });
}

/**
 * Unequal weights interleave (LLaMA-Factory's interleave_under) with probabilities from the weights.
 * One max_samples for every dataset is the data worker's own (the first rows of each).
 */
function mixOptions(sources: readonly DataSource[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const limits = new Set(sources.map((s) => s.options.max_samples));
  const [limit] = limits;
  if (limits.size === 1 && limit !== undefined) out.max_samples = limit;
  const weights = sources.map((s) => Number(s.options.weight ?? 1));
  const total = weights.reduce((a, b) => a + b, 0);
  if (sources.length > 1 && new Set(weights).size > 1 && total > 0) {
    out.mix_strategy = "interleave_under";
    out.interleave_probs = weights.map((w) => w / total);
  }
  // The readers' limits are one for all files: the largest any block asks for.
  for (const key of ["max_json_bytes", "max_row_chars"]) {
    const asked = sources.map((s) => s.options[key]).filter((v): v is number => typeof v === "number");
    if (asked.length > 0) out[key] = Math.max(...asked);
  }
  return out;
}

/**
 * Different max_samples per dataset: each limited dataset gets dataset_info's num_samples, a seeded
 * random subset of that many rows (never more rows than it has, so nothing is drawn twice).
 */
async function limitRows(
  info: Record<string, unknown>,
  names: readonly string[],
  sources: readonly DataSource[],
  dir: string,
  limits: ReadLimits,
): Promise<Result<void, RunFailure>> {
  if (new Set(sources.map((s) => s.options.max_samples)).size <= 1) return ok(undefined);
  for (const [i, source] of sources.entries()) {
    const limit = source.options.max_samples;
    if (typeof limit !== "number") continue;
    const name = names[i]!;
    const attr = datasetAttr(info, name);
    if (attr.isErr()) return fail(attr.error.message);
    const files = datasetFiles(attr.value, dir, limits.maxJsonBytes);
    if (files.isErr()) return fail(files.error.message);
    let rows = 0;
    for (const file of files.value) for await (const item of readFile(file, name, limits)) if (item.kind === "row") rows++;
    if (rows > limit) info[name] = { ...(info[name] as Record<string, unknown>), num_samples: limit };
  }
  return ok(undefined);
}

async function entryFor(
  recipe: Pick<ResolvedRecipe, "baseDir">,
  source: DataSource,
  registry: Registry,
  cwd: string,
  io?: CommandIO,
): Promise<Result<{ entry: Record<string, unknown>; label: string }, RunFailure>> {
  const path = recipePath(recipe, source.source);
  if (existsSync(path)) return fileEntry(path, source, registry, cwd);
  const named = namedEntry(recipe, source, path, cwd);
  if (named.isErr()) return named;
  // hf_hub_url: the dataset repo from the Hugging Face cache (downloaded when missing), read as a folder.
  const local = await localDatasetEntry(named.value.entry, source.source, registry, io);
  if (local.isErr()) return fail(local.error.message);
  return ok({ entry: local.value, label: named.value.label });
}

/** A file or folder named in the recipe, described as its dataset_info entry would be. */
async function fileEntry(
  path: string,
  source: DataSource,
  registry: Registry,
  cwd: string,
): Promise<Result<{ entry: Record<string, unknown>; label: string }, RunFailure>> {
  const where = `dataset ${shown(path, cwd)}`;
  const format = source.format ?? (statSync(path).isFile() && fileType(path) === "text" ? "text" : "alpaca");
  if (!registry.has("datasets", format)) return fail(`${where}: dataset format "${format}" is not registered`);
  let columns = pick(source.options, COLUMN_NAMES);
  const tags = pick(source.options, TAG_NAMES);
  const entry: Record<string, unknown> = { file_name: path };
  const split = source.options.split;
  if (typeof split === "string" && split !== "train") entry.split = split;
  if (FORMATS_BY_SHAPE.includes(format)) {
    // pairwise and kto rows come in alpaca or conversation shape; the first row says which.
    const shape = await rowShape(path, columns);
    if (shape.isErr()) return fail(`${where}: ${shape.error.message}`);
    entry.formatting = shape.value;
    if (format === "pairwise") entry.ranking = true;
    // A columns object replaces every default (LLaMA-Factory's rule), so the shape's own come first.
    if (format === "kto" || Object.keys(columns).length > 0) {
      const tag: Record<string, string> = format === "kto" && columns.kto_tag === undefined ? { kto_tag: "kto_tag" } : {};
      columns = { ...SHAPE_COLUMNS[shape.value], ...columns, ...tag };
    }
  } else entry.formatting = format;
  if (Object.keys(columns).length > 0) entry.columns = columns;
  if (Object.keys(tags).length > 0) entry.tags = tags;
  return ok({ entry, label: `${shown(path, cwd)} (${format})` });
}

/** A dataset name: its entry in <dir>/dataset_info.json, with file_name made absolute. */
function namedEntry(
  recipe: Pick<ResolvedRecipe, "baseDir">,
  source: DataSource,
  path: string,
  cwd: string,
): Result<{ entry: Record<string, unknown>; label: string }, RunFailure> {
  const dir = recipePath(recipe, String(source.options.dir ?? "data"));
  const infoFile = resolve(dir, "dataset_info.json");
  const looksLikeFile = /[/\\]|\.(jsonl?|csv|parquet|txt)$/i.test(source.source);
  if (!existsSync(infoFile)) {
    return fail(
      looksLikeFile
        ? `dataset "${source.source}": no such file ${path}`
        : `dataset "${source.source}": no such file ${path}, and no ${shown(infoFile, cwd)} to look the name up in (set dir = "<folder with dataset_info.json>")`,
    );
  }
  const text = readDatasetInfoText(infoFile);
  if (text.isErr()) return fail(text.error.message);
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(text.value) as Record<string, unknown>;
  } catch (e) {
    return fail(`${shown(infoFile, cwd)}: not valid JSON: ${messageOf(e)}`);
  }
  if (!Object.hasOwn(info, source.source)) {
    const near = didYouMean(suggest(source.source, Object.keys(info)));
    return fail(`dataset "${source.source}": no such file ${path}, and ${shown(infoFile, cwd)} has no dataset of that name${near}`);
  }
  const attr = datasetAttr(info, source.source, shown(infoFile, cwd));
  if (attr.isErr()) return fail(attr.error.message);
  const format = formatNameOf(attr.value);
  if (source.format !== undefined && source.format !== format) {
    return fail(
      `dataset "${source.source}": the recipe says format ${source.format}, but ${shown(infoFile, cwd)} describes it as ${format}; drop the format word or fix the entry`,
    );
  }
  // The entry's files must stay inside its folder (a path written in the recipe itself need not).
  const entry: Record<string, unknown> = confinedEntry(info[source.source] as Record<string, unknown>, dir);
  const file = entry.file_name;
  if (typeof file === "string" && !isAbsolute(file)) entry.file_name = resolve(dir, file);
  const split = source.options.split;
  if (typeof split === "string" && split !== "train") entry.split = split;
  return ok({ entry, label: `${source.source} (${format}, ${shown(infoFile, cwd)})` });
}

function pick(options: ResolvedOptions, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (typeof options[k] === "string") out[k] = options[k] as string;
  return out;
}

/** alpaca, sharegpt or openai, from the first row's columns. */
async function rowShape(path: string, columns: Readonly<Record<string, string>>): Promise<Result<string, Error>> {
  const files = datasetFiles(fileDatasetAttr(path), path);
  if (files.isErr()) return err(files.error);
  const rows = readFile(files.value[0]!, path);
  try {
    for await (const item of rows) {
      if (item.kind !== "row" || typeof item.value !== "object" || item.value === null) continue;
      const row = item.value as Record<string, unknown>;
      const messages = columns.messages;
      if (messages !== undefined && Array.isArray(row[messages])) return ok(messages === "messages" ? "openai" : "sharegpt");
      if (Array.isArray(row.conversations)) return ok("sharegpt");
      if (Array.isArray(row.messages)) return ok("openai");
      return ok("alpaca");
    }
    return ok("alpaca");
  } catch (e) {
    return err(new Error(`reading its first row: ${messageOf(e)}`));
  } finally {
    await rows.return(undefined);
  }
}
