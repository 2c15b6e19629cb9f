// How much of a data file a reader holds at once: a .json file is parsed whole, so its size is capped;
// a JSONL line, a text line or a CSV record is held whole, so its length is capped. Both are data
// options (max_json_bytes, max_row_chars) with these defaults.
import { DEFAULT_MAX_LINE_CHARS } from "./lines.ts";

export interface ReadLimits {
  /** Largest .json file parsed whole, in bytes. */
  readonly maxJsonBytes: number;
  /** Longest single row (a line, or a CSV record), in characters. */
  readonly maxRowChars: number;
}

export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024 * 1024;

export const DEFAULT_READ_LIMITS: ReadLimits = { maxJsonBytes: DEFAULT_MAX_JSON_BYTES, maxRowChars: DEFAULT_MAX_LINE_CHARS };
