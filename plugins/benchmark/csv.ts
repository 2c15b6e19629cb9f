// A CSV reader for benchmark files (RFC 4180: quoted fields, "" escapes, newlines inside quotes, CRLF),
// keeping the line each record starts on so a bad row can be named as file:line.
import { err, ok, type Result } from "neverthrow";

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  readonly line: number;
  readonly fields: readonly string[];
}

/** The records of `text`; an unclosed quote is an error naming the line it opened on. */
export function parseCsv(text: string): Result<CsvRecord[], { line: number; message: string }> {
  const records: CsvRecord[] = [];
  const src = text.startsWith("\uFEFF") ? text.slice(1) : text;
  let line = 1;
  let start = 1;
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let quoteLine = 0;
  let sawAny = false;
  const endRecord = () => {
    fields.push(field);
    // A blank line is no record (pandas skips them too).
    if (!(fields.length === 1 && fields[0] === "" && !sawAny)) records.push({ line: start, fields });
    fields = [];
    field = "";
    sawAny = false;
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n") line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === "") {
      quoted = true;
      quoteLine = line;
      sawAny = true;
    } else if (c === ",") {
      fields.push(field);
      field = "";
      sawAny = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && src[i + 1] === "\n") i++;
      endRecord();
      line++;
      start = line;
    } else {
      field += c;
      sawAny = true;
    }
  }
  if (quoted) return err({ line: quoteLine, message: "a quoted field is never closed" });
  if (field !== "" || fields.length > 0 || sawAny) endRecord();
  return ok(records);
}
