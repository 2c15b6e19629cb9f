// Which local files hold a dataset, and how to read each. A `file_name` may be one file or a folder
// of files of one type; in a folder, `folder`, `subset` (subfolders) and `split` (a `train/` folder or
// `train-*.parquet` style names, as in a downloaded Hub dataset) narrow the choice. Every path is
// checked with stat before it is opened, and an entry of a dataset_info.json stays inside its folder.

import { readdirSync, realpathSync } from "node:fs";
import { basename, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { pathKind } from "../../io/regular-file.ts";
import type { DatasetAttr } from "../dataset-info.ts";
import { DataError } from "../problems.ts";
import { readCsv } from "./csv.ts";
import { jsonTooLarge, readJson } from "./json.ts";
import { readJsonl } from "./jsonl.ts";
import { DEFAULT_MAX_JSON_BYTES, DEFAULT_READ_LIMITS, type ReadLimits } from "./limits.ts";
import type { ByteSource } from "./lines.ts";
import { readParquet } from "./parquet.ts";
import type { RowStream } from "./rows.ts";
import { readText } from "./text.ts";

export type FileType = "json" | "jsonl" | "csv" | "parquet" | "text";
const EXT_TYPES: Readonly<Record<string, FileType>> = { json: "json", jsonl: "jsonl", csv: "csv", parquet: "parquet", txt: "text" };

export interface DataFile {
  readonly path: string;
  /** The path as messages show it: relative to the dataset dir. */
  readonly display: string;
  readonly type: FileType;
}

export function fileType(path: string): FileType | undefined {
  return EXT_TYPES[extname(path).slice(1).toLowerCase()];
}

/**
 * The files of a dataset, sorted by name, each checked before anything opens it: a regular file (a
 * symlink is followed only to one), never a device, FIFO or socket; inside `attr.root` after ".." and
 * symlinks are resolved, when the entry came from a dataset_info.json; a .json file no larger than
 * `maxJsonBytes`. Hub, script and cloud datasets need a download lft does not do.
 */
export function datasetFiles(attr: DatasetAttr, datasetDir: string, maxJsonBytes = DEFAULT_MAX_JSON_BYTES): Result<DataFile[], DataError> {
  if (attr.loadFrom !== "file") {
    return err(
      new DataError(
        `dataset "${attr.name}" is on ${attr.loadFrom.replace("_", " ")} ("${attr.path}"): lft reads local files only; download it and give its file_name`,
      ),
    );
  }
  // An absolute file_name stands alone, as with Python's os.path.join.
  let path = isAbsolute(attr.path) ? attr.path : join(datasetDir, attr.path);
  const lexical = confinedByName(attr, path, `file_name "${attr.path}"`);
  if (lexical.isErr()) return err(lexical.error);
  const top = pathKind(path);
  if (top.kind === "missing") return err(new DataError(`dataset "${attr.name}": file ${path} ${top.detail}`));
  if (top.kind === "special") return err(specialFile(attr, path, top.what));
  const inside = confined(attr, path, `file_name "${attr.path}"`);
  if (inside.isErr()) return err(inside.error);
  let paths: string[];
  if (top.kind === "folder") {
    for (const sub of [attr.folder, attr.subset]) {
      if (sub === undefined) continue;
      const next = join(path, sub);
      const within = confined(attr, next, `folder ${next}`);
      if (within.isErr()) return err(within.error);
      if (pathKind(next).kind !== "folder") return err(new DataError(`dataset "${attr.name}": folder ${next} not found`));
      path = next;
    }
    const split = splitFiles(attr, path);
    if (split.isErr()) return err(split.error);
    paths = split.value;
  } else {
    if (attr.split !== "train") return err(new DataError(`dataset "${attr.name}": a single file holds only the "train" split, asked for "${attr.split}"`));
    paths = [path];
  }
  const files: DataFile[] = [];
  for (const p of paths) {
    const type = fileType(p);
    if (type === undefined)
      return err(
        new DataError(
          `${p}: unknown file type; allowed: ${Object.keys(EXT_TYPES)
            .map((e) => `.${e}`)
            .join(", ")}`,
        ),
      );
    if (files.length > 0 && files[0]!.type !== type)
      return err(new DataError(`dataset "${attr.name}": files must be of one type, found ${files[0]!.display} and ${p}`));
    const display = p.startsWith(datasetDir) ? relative(datasetDir, p) : p;
    if (type === "json") {
      const kind = pathKind(p);
      const tooLarge = kind.kind === "file" ? jsonTooLarge(kind.size, maxJsonBytes) : undefined;
      if (tooLarge !== undefined) return err(new DataError(`dataset "${attr.name}": ${display}: ${tooLarge}`));
    }
    files.push({ path: p, display, type });
  }
  if (files.length === 0) return err(new DataError(`dataset "${attr.name}": no data files in ${path}`));
  return ok(files);
}

function outsideRoot(attr: DatasetAttr, root: string, what: string, real: string): Result<void, DataError> {
  return err(
    new DataError(
      `dataset "${attr.name}": ${what} resolves to ${real}, outside the dataset folder ${root}; an entry of dataset_info.json may name only files inside its folder (after ".." and symlinks). Move the file into that folder, or name the file directly in the recipe (dataset "${real}") if you mean to read it`,
    ),
  );
}

/** Whether `path`, by its name alone (".." resolved, nothing touched on disk), stays inside the entry's root. */
function confinedByName(attr: DatasetAttr, path: string, what: string): Result<void, DataError> {
  const root = attr.root;
  if (root === undefined) return ok(undefined);
  const lexical = resolve(path);
  return within(resolve(root), lexical) ? ok(undefined) : outsideRoot(attr, root, what, lexical);
}

/** Whether `path` stays inside the entry's root (by name, then after symlinks); always so without a root. */
function confined(attr: DatasetAttr, path: string, what: string): Result<void, DataError> {
  const root = attr.root;
  if (root === undefined) return ok(undefined);
  const byName = confinedByName(attr, path, what);
  if (byName.isErr()) return byName;
  const lexical = resolve(path);
  let realRoot: string;
  let real: string;
  try {
    realRoot = realpathSync(root);
    real = realpathSync(lexical);
  } catch {
    return ok(undefined); // missing: the caller says "not found"
  }
  return within(realRoot, real) ? ok(undefined) : outsideRoot(attr, root, what, real);
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function specialFile(attr: DatasetAttr, path: string, what: string): DataError {
  return new DataError(
    `dataset "${attr.name}": ${path} is ${what}, not a regular file; lft reads data only from regular files (symlinks are followed only to them) and folders of them`,
  );
}

function splitFiles(attr: DatasetAttr, dir: string): Result<string[], DataError> {
  const fail = (message: string) => err(new DataError(`dataset "${attr.name}": ${message}`));
  const splitDir = join(dir, attr.split);
  if (pathKind(splitDir).kind === "folder") return listFiles(attr, splitDir);
  const listed = listFiles(attr, dir);
  if (listed.isErr()) return listed;
  const all = listed.value;
  const split = attr.split;
  const named = (name: string, s: string) => new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([-_.]|$)`).test(basename(name));
  const mine = all.filter((f) => named(f, split));
  if (mine.length > 0) return ok(mine);
  if (split !== "train") return fail(`no files for split "${split}" in ${dir} (looked for ${split}/ and ${split}-* names)`);
  // No split naming at all: every file is train. Files named for other splits stay out.
  const others = ["test", "validation", "valid", "dev", "eval"];
  return ok(all.filter((f) => !others.some((s) => named(f, s))));
}

/** The files of a folder (subfolders are not files); a special file, a broken link or one leading outside the root is an error. */
function listFiles(attr: DatasetAttr, dir: string): Result<string[], DataError> {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const p = join(dir, name);
    const kind = pathKind(p);
    if (kind.kind === "special") return err(specialFile(attr, p, kind.what));
    if (kind.kind === "missing") return err(new DataError(`dataset "${attr.name}": ${p} is ${kind.detail === "not found" ? "a broken symlink" : kind.detail}`));
    const inside = confined(attr, p, `file ${p}`);
    if (inside.isErr()) return err(inside.error);
    if (kind.kind === "file") out.push(p);
  }
  return ok(out);
}

/** Bytes of a file, read lazily in chunks. */
export function openFile(path: string): ByteSource {
  return Bun.file(path).stream();
}

/** Rows of one file; JSONL, text and CSV stream lazily, Parquet by row group, JSON arrays whole. */
export function readFile(file: DataFile, dataset: string, limits: ReadLimits = DEFAULT_READ_LIMITS): RowStream {
  switch (file.type) {
    case "jsonl":
      return readJsonl(openFile(file.path), file.display, dataset, limits.maxRowChars);
    case "json":
      return readJson(file.path, file.display, dataset, openFile, limits);
    case "text":
      return readText(openFile(file.path), file.display, dataset, limits.maxRowChars);
    case "csv":
      return readCsv(openFile(file.path), file.display, dataset, limits.maxRowChars);
    case "parquet":
      return readParquet(file.path, file.display, dataset);
  }
}
