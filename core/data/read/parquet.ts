// Parquet through hyparquet, one row group at a time, so memory holds a row group rather than the
// file. 64-bit integers come back as numbers when they fit exactly.
import { asyncBufferFromFile, type FileMetaData, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import type { RowStream } from "./rows.ts";

export async function* readParquet(path: string, file: string, dataset: string): RowStream {
  const buffer = await asyncBufferFromFile(path);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    yield { kind: "bad", bad: { reason: "unparsable", detail: `not a readable Parquet file: ${(e as Error).message}`, source: { dataset, file, row: 0 } } };
    return;
  }
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    const rows = await parquetReadObjects({ file: buffer, metadata, rowStart: start, rowEnd: end });
    for (let i = 0; i < rows.length; i++) yield { kind: "row", value: plain(rows[i]), source: { dataset, file, row: start + i + 1 } };
    start = end;
  }
}

/** BigInt → number where exact; nested lists and structs recursively. */
function plain(v: unknown): unknown {
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array) && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}
