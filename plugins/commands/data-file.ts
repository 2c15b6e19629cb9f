// `lft data preview FILE`: a dataset_info entry for a data file named on the command line. The file type
// comes from the extension (json, jsonl, csv, parquet, txt); the format from --format, else from the first
// row, as LLaMA-Factory's entries would say it: typed-part messages → v1, messages → openai,
// conversations → sharegpt, a lone text column (or a .txt file) → text, otherwise alpaca; chosen/rejected
// (or v1's chosen_messages/rejected_messages) make it a ranking (pairwise) dataset, a kto_tag column kto;
// the stage that builds its samples follows (pt, dpo, kto or sft).
import { basename } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { DataError, type DatasetInfo, DEFAULT_READ_LIMITS, datasetFiles, fileDatasetAttr, fileType, type ReadLimits, readFile } from "../../core/index.ts";

export interface FileDataset {
  /** dataset_info.json with one entry, keyed by the file's name. */
  readonly info: DatasetInfo;
  readonly name: string;
  /** The format as dataset_info.json's `formatting` says it. */
  readonly formatting: string;
  /** The stage whose samples suit the rows: pt (text), dpo (pairs), kto (kto_tag), else sft. */
  readonly stage: string;
}

type Shape = { formatting: string; ranking?: boolean; kto?: boolean; columns?: Record<string, string> };

/** The entry for `path` (absolute); `format` overrides what the first row suggests. */
export async function fileDataset(path: string, format?: string, limits: ReadLimits = DEFAULT_READ_LIMITS): Promise<Result<FileDataset, DataError>> {
  const type = fileType(path);
  if (type === undefined) return err(new DataError(`${path}: unknown data file type; use a .json, .jsonl, .csv, .parquet or .txt file`));
  const first = type === "text" ? ok(undefined) : await firstRow(path, limits);
  if (first.isErr()) return err(first.error);
  const shape = type === "text" ? { formatting: "text" } : shapeOf(first.value);
  if (format !== undefined) shape.formatting = format;
  const entry: Record<string, unknown> = { file_name: path, formatting: shape.formatting };
  if (shape.ranking) entry.ranking = true;
  if (shape.columns) entry.columns = shape.columns;
  const name = basename(path);
  const stage = shape.formatting === "text" ? "pt" : shape.ranking ? "dpo" : shape.kto ? "kto" : "sft";
  return ok({ info: { [name]: entry }, name, formatting: shape.formatting, stage });
}

async function firstRow(path: string, limits: ReadLimits): Promise<Result<Record<string, unknown> | undefined, DataError>> {
  const files = datasetFiles(fileDatasetAttr(path), path, limits.maxJsonBytes);
  if (files.isErr()) return err(files.error);
  const rows = readFile(files.value[0]!, basename(path), limits);
  try {
    for await (const item of rows) {
      if (item.kind === "row" && typeof item.value === "object" && item.value !== null && !Array.isArray(item.value))
        return ok(item.value as Record<string, unknown>);
    }
    return ok(undefined);
  } catch (e) {
    return err(new DataError(`${path}: reading its first row: ${e instanceof Error ? e.message : String(e)}`));
  } finally {
    await rows.return(undefined);
  }
}

function shapeOf(row: Record<string, unknown> | undefined): Shape {
  if (row === undefined) return { formatting: "alpaca" };
  const hasPartList = (list: unknown) => Array.isArray(list) && list.some((m) => Array.isArray((m as { content?: unknown } | null)?.content));
  if (Array.isArray(row.chosen_messages) && Array.isArray(row.rejected_messages)) return { formatting: "v1", ranking: true };
  if (hasPartList(row.messages)) return { formatting: "v1" };
  const pair = "chosen" in row && "rejected" in row;
  for (const [column, formatting] of [
    ["messages", "openai"],
    ["conversations", "sharegpt"],
  ] as const) {
    if (!Array.isArray(row[column])) continue;
    const columns: Record<string, string> = { messages: column };
    if (pair) Object.assign(columns, { chosen: "chosen", rejected: "rejected" });
    if ("kto_tag" in row) return { formatting, kto: true, columns: { ...columns, kto_tag: "kto_tag" } };
    if ("tools" in row) columns.tools = "tools";
    if ("system" in row) columns.system = "system";
    return { formatting, ranking: pair, columns };
  }
  const keys = Object.keys(row);
  if (keys.length === 1 && typeof row.text === "string") return { formatting: "text", columns: { prompt: "text" } };
  if (pair) return { formatting: "alpaca", ranking: true };
  return { formatting: "alpaca" };
}
