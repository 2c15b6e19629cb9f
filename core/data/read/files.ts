// Which local files hold a dataset, and how to read each. A `file_name` may be one file or a folder
// of files of one type; in a folder, `folder`, `subset` (subfolders) and `split` (a `train/` folder or
// `train-*.parquet` style names, as in a downloaded Hub dataset) narrow the choice.

import { readdirSync, statSync } from "node:fs";
import { basename, extname, isAbsolute, join, relative } from "node:path";
import { err, ok, type Result } from "neverthrow";
import type { DatasetAttr } from "../dataset-info.ts";
import { DataError } from "../problems.ts";
import { readCsv } from "./csv.ts";
import { readJson } from "./json.ts";
import { readJsonl } from "./jsonl.ts";
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

/** The files of a dataset, sorted by name. Hub, script and cloud datasets need a download lft does not do. */
export function datasetFiles(attr: DatasetAttr, datasetDir: string): Result<DataFile[], DataError> {
  if (attr.loadFrom !== "file") {
    return err(
      new DataError(
        `dataset "${attr.name}" is on ${attr.loadFrom.replace("_", " ")} ("${attr.path}"): lft reads local files only; download it and give its file_name`,
      ),
    );
  }
  // An absolute file_name stands alone, as with Python's os.path.join.
  let path = isAbsolute(attr.path) ? attr.path : join(datasetDir, attr.path);
  const stat = statOf(path);
  if (stat === null) return err(new DataError(`dataset "${attr.name}": file ${path} not found`));
  let paths: string[];
  if (stat.isDirectory()) {
    for (const sub of [attr.folder, attr.subset]) {
      if (sub === undefined) continue;
      const next = join(path, sub);
      if (statOf(next)?.isDirectory() !== true) return err(new DataError(`dataset "${attr.name}": folder ${next} not found`));
      path = next;
    }
    const split = splitFiles(path, attr.split);
    if (split.isErr()) return err(new DataError(`dataset "${attr.name}": ${split.error}`));
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
    files.push({ path: p, display: p.startsWith(datasetDir) ? relative(datasetDir, p) : p, type });
  }
  if (files.length === 0) return err(new DataError(`dataset "${attr.name}": no data files in ${path}`));
  return ok(files);
}

function splitFiles(dir: string, split: string): Result<string[], string> {
  const splitDir = join(dir, split);
  if (statOf(splitDir)?.isDirectory() === true) return ok(listFiles(splitDir));
  const all = listFiles(dir);
  const named = (name: string, s: string) => new RegExp(`^${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([-_.]|$)`).test(basename(name));
  const mine = all.filter((f) => named(f, split));
  if (mine.length > 0) return ok(mine);
  if (split !== "train") return err(`no files for split "${split}" in ${dir} (looked for ${split}/ and ${split}-* names)`);
  // No split naming at all: every file is train. Files named for other splits stay out.
  const others = ["test", "validation", "valid", "dev", "eval"];
  return ok(all.filter((f) => !others.some((s) => named(f, s))));
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith("."))
    .map((n) => join(dir, n))
    .filter((p) => statOf(p)?.isFile() === true)
    .sort();
}

function statOf(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** Bytes of a file, read lazily in chunks. */
export function openFile(path: string): ByteSource {
  return Bun.file(path).stream();
}

/** Rows of one file; JSONL, text and CSV stream lazily, Parquet by row group, JSON arrays whole. */
export function readFile(file: DataFile, dataset: string): RowStream {
  switch (file.type) {
    case "jsonl":
      return readJsonl(openFile(file.path), file.display, dataset);
    case "json":
      return readJson(file.path, file.display, dataset, openFile);
    case "text":
      return readText(openFile(file.path), file.display, dataset);
    case "csv":
      return readCsv(openFile(file.path), file.display, dataset);
    case "parquet":
      return readParquet(file.path, file.display, dataset);
  }
}
