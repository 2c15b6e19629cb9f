// A Hugging Face model checkpoint (a model folder's weights) over one or many safetensors files: `model.safetensors`, or the shards named by
// `model.safetensors.index.json`. Every shard is opened (headers only) and cross-checked with the index.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { didYouMean, suggest } from "../registry/suggest.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { CheckpointError, type ConfigError } from "./errors.ts";
import { describeJson, isPlainObject, readJsonObject } from "./json.ts";
import type { TensorInfo } from "./safetensors-header.ts";
import { SafetensorsFile } from "./safetensors-read.ts";
import type { LoadOptions } from "./tensor-upload.ts";

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

export class Checkpoint {
  private readonly owner: ReadonlyMap<string, SafetensorsFile>;
  private readonly sortedNames: readonly string[];

  constructor(
    /** The folder (or file) it was opened from. */
    readonly path: string,
    readonly files: readonly SafetensorsFile[],
    owner: Map<string, SafetensorsFile>,
    /** The index file, when sharded. */
    readonly indexFile: string | null,
    /** Inconsistencies that do not stop loading (a shard tensor the index omits, a wrong total_size). */
    readonly warnings: readonly string[],
  ) {
    this.owner = owner;
    this.sortedNames = [...owner.keys()].sort();
  }

  names(): readonly string[] {
    return this.sortedNames;
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }

  /** The path of the file that holds `name`. */
  fileOf(name: string): Result<string, CheckpointError> {
    return this.find(name).map((f) => f.path);
  }

  info(name: string): Result<TensorInfo & { file: string }, CheckpointError> {
    return this.find(name).andThen((f) => f.info(name).map((i) => ({ ...i, file: f.path })));
  }

  bytes(name: string): Result<Uint8Array, CheckpointError> {
    return this.find(name).andThen((f) => f.bytes(name));
  }

  tensor(name: string, opts?: LoadOptions): Result<Tensor, CheckpointError> {
    return this.find(name).andThen((f) => f.tensor(name, opts));
  }

  close(): void {
    for (const f of this.files) f.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private find(name: string): Result<SafetensorsFile, CheckpointError> {
    const f = this.owner.get(name);
    if (f) return ok(f);
    return err(new CheckpointError(this.path, `not in the checkpoint${didYouMean(suggest(name, this.sortedNames))}`, name));
  }
}

function listing(dir: string): string {
  const names = readdirSync(dir).sort();
  if (names.length === 0) return "the folder is empty";
  const shown = names.slice(0, 20).join(", ");
  return `the folder holds: ${shown}${names.length > 20 ? `, … (${names.length} entries)` : ""}`;
}

function single(path: string, shownAs: string): Result<Checkpoint, CheckpointError> {
  return SafetensorsFile.open(path).map((f) => new Checkpoint(shownAs, [f], new Map(f.names().map((n) => [n, f])), null, []));
}

/** A model folder (or one .safetensors file). A folder with both prefers `model.safetensors`, as transformers does. */
export function openCheckpoint(path: string): Result<Checkpoint, CheckpointError | ConfigError> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    return err(new CheckpointError(path, "no such file or folder"));
  }
  if (!isDir) return single(path, path);
  const file = join(path, SINGLE_FILE);
  if (existsSync(file)) return single(file, path);
  const index = join(path, INDEX_FILE);
  if (existsSync(index)) return openSharded(path, index);
  return err(new CheckpointError(path, `expected ${SINGLE_FILE} or ${INDEX_FILE} in this folder; ${listing(path)}`));
}

const MAX_LISTED = 10;

function summarise(problems: readonly string[]): string {
  const head = problems.slice(0, MAX_LISTED).join("; ");
  return problems.length > MAX_LISTED ? `${head}; … and ${problems.length - MAX_LISTED} more` : head;
}

function openSharded(dir: string, index: string): Result<Checkpoint, CheckpointError | ConfigError> {
  const parsed = readJsonObject(index, "shard index");
  if (parsed.isErr()) return err(parsed.error);
  const { weight_map: weightMap, metadata } = parsed.value;
  if (!isPlainObject(weightMap))
    return err(new CheckpointError(index, `"weight_map" must be an object of tensor name to shard file, found ${describeJson(weightMap)}`));
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== "string") return err(new CheckpointError(index, `weight_map value must be a shard file name, found ${describeJson(shard)}`, name));
    if (shard === "" || shard !== basename(shard) || shard === "..") {
      return err(new CheckpointError(index, `weight_map names shard ${JSON.stringify(shard)}, expected a file name inside ${dir}`, name));
    }
    const list = byShard.get(shard) ?? [];
    list.push(name);
    byShard.set(shard, list);
  }
  const files: SafetensorsFile[] = [];
  const fail = (e: CheckpointError) => {
    for (const f of files) f.close();
    return err(e);
  };
  for (const shard of [...byShard.keys()].sort()) {
    const path = join(dir, shard);
    if (!existsSync(path)) {
      const names = byShard.get(shard)!;
      return fail(
        new CheckpointError(index, `names shard ${shard} for ${names.length} tensors (e.g. "${names[0]}"), but ${path} does not exist; ${listing(dir)}`),
      );
    }
    const f = SafetensorsFile.open(path);
    if (f.isErr()) return fail(f.error);
    files.push(f.value);
  }

  const problems: string[] = [];
  const warnings: string[] = [];
  const owner = new Map<string, SafetensorsFile>();
  for (const f of files) {
    for (const name of f.names()) {
      const other = owner.get(name);
      if (other) problems.push(`tensor "${name}" is in both ${basename(other.path)} and ${basename(f.path)}`);
      else owner.set(name, f);
      if (!(name in weightMap)) warnings.push(`${f.path}: tensor "${name}" is not listed in ${INDEX_FILE}`);
    }
  }
  for (const [name, shard] of Object.entries(weightMap)) {
    const f = owner.get(name);
    if (!f) problems.push(`tensor "${name}": the index puts it in ${shard}, which does not hold it`);
    else if (basename(f.path) !== shard) problems.push(`tensor "${name}": the index puts it in ${shard}, but it is in ${basename(f.path)}`);
  }
  if (problems.length > 0) return fail(new CheckpointError(index, `does not match its shards: ${summarise(problems)}`));

  const total = isPlainObject(metadata) ? metadata.total_size : undefined;
  const actual = files.reduce((sum, f) => sum + f.dataBytes, 0);
  if (typeof total === "number" && total !== actual) warnings.push(`${index}: metadata.total_size is ${total}, the shards hold ${actual} bytes of tensors`);
  return ok(new Checkpoint(dir, files, owner, index, warnings));
}
