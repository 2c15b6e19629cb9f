// Writes a Hugging Face model checkpoint as transformers does: `model.safetensors` when it fits in one shard, else
// `model-0000i-of-0000N.safetensors` shards plus `model.safetensors.index.json`. Each file appears
// atomically; shards are written before the index, and stale files of the other layout removed last,
// so a reader always finds a consistent checkpoint (unless same-named shards are overwritten in place).
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { writeFileAtomic } from "./atomic-file.ts";
import { CheckpointError } from "./errors.ts";
import { INDEX_FILE, SINGLE_FILE } from "./hf-checkpoint.ts";
import { byUtf8, prepareEntries, type SafetensorsEntry, writeSafetensors } from "./safetensors-write.ts";

export interface WriteCheckpointOptions {
  /** Largest shard in tensor bytes (a bigger tensor gets a shard of its own). Default 5e9, transformers' "5GB". */
  maxShardBytes?: number;
  /** Stored in every shard's header; `format: "pt"` is added unless given (transformers checks it). */
  metadata?: Readonly<Record<string, string>>;
}

export interface WrittenCheckpoint {
  /** Paths of the safetensors files, in shard order. */
  files: string[];
  /** The index path, or null for a single file. */
  index: string | null;
  /** Bytes of tensor data over all shards (the index's metadata.total_size). */
  totalSize: number;
}

const SHARD_NAME = /^model-\d{5}-of-\d{5}\.safetensors$/;

export function shardName(i: number, n: number): string {
  const pad = (k: number) => String(k).padStart(5, "0");
  return `model-${pad(i)}-of-${pad(n)}.safetensors`;
}

/** Python's json.dumps(s) with ensure_ascii: everything outside printable ASCII as \uXXXX. */
function pyString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The index exactly as transformers writes it: json.dumps(index, indent=2, sort_keys=True) + "\n". */
export function indexJson(totalSize: number, weightMap: ReadonlyMap<string, string>): string {
  const lines = [...weightMap.keys()].sort(byUtf8).map((k) => `    ${pyString(k)}: ${pyString(weightMap.get(k)!)}`);
  return `{\n  "metadata": {\n    "total_size": ${totalSize}\n  },\n  "weight_map": {\n${lines.join(",\n")}\n  }\n}\n`;
}

function removeStale(dir: string, keep: ReadonlySet<string>, alsoRemove: string): void {
  for (const f of readdirSync(dir)) if ((SHARD_NAME.test(f) && !keep.has(f)) || f === alsoRemove) rmSync(join(dir, f), { force: true });
}

export function writeCheckpoint(
  dir: string,
  entries: readonly SafetensorsEntry[],
  opts: WriteCheckpointOptions = {},
): Result<WrittenCheckpoint, CheckpointError> {
  const max = opts.maxShardBytes ?? 5e9;
  if (!Number.isSafeInteger(max) || max <= 0) return err(new CheckpointError(dir, `maxShardBytes must be a positive integer, got ${max}`));
  const prepared = prepareEntries(dir, entries);
  if (prepared.isErr()) return err(prepared.error);
  const sizes = new Map(prepared.value.map((p) => [p.name, p.byteLength]));
  const totalSize = prepared.value.reduce((s, p) => s + p.byteLength, 0);

  // Shards fill in the caller's order (a model's own order keeps a layer's tensors together).
  const shards: SafetensorsEntry[][] = [[]];
  let filled = 0;
  for (const e of entries) {
    const size = sizes.get(e.name)!;
    if (shards.at(-1)!.length > 0 && filled + size > max) {
      shards.push([]);
      filled = 0;
    }
    shards.at(-1)!.push(e);
    filled += size;
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    return err(new CheckpointError(dir, `cannot create the folder: ${(e as Error).message}`));
  }
  const metadata = { format: "pt", ...opts.metadata };

  if (shards.length === 1) {
    const file = join(dir, SINGLE_FILE);
    const written = writeSafetensors(file, shards[0]!, metadata);
    if (written.isErr()) return err(written.error);
    removeStale(dir, new Set(), INDEX_FILE);
    return ok({ files: [file], index: null, totalSize });
  }

  const files: string[] = [];
  const weightMap = new Map<string, string>();
  for (const [i, shard] of shards.entries()) {
    const name = shardName(i + 1, shards.length);
    const written = writeSafetensors(join(dir, name), shard, metadata);
    if (written.isErr()) return err(written.error);
    files.push(join(dir, name));
    for (const e of shard) weightMap.set(e.name, name);
  }
  const index = join(dir, INDEX_FILE);
  const text = new TextEncoder().encode(indexJson(totalSize, weightMap));
  const written = writeFileAtomic(index, (put) => put(text));
  if (written.isErr()) return err(written.error);
  removeStale(dir, new Set(weightMap.values()), SINGLE_FILE);
  return ok({ files, index, totalSize });
}
