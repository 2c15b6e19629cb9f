// CSV (RFC 4180) read lazily: the first record is the header, each later record a row of strings.
// Quoted fields may hold commas, quotes ("") and line breaks. "true"/"false" become booleans (as
// pandas infers for Hugging Face's csv loader), so a kto_tag column works; all else stays text.
// A record over the length limit is dropped as it is read (the parser keeps only its quote state) and
// reported; bytes that are not UTF-8 are counted on the record that holds them.
import { type ByteSource, DEFAULT_MAX_LINE_CHARS } from "./lines.ts";
import { invalidUtf8Note, oversizedRow, type ReadItem, type RowStream } from "./rows.ts";
import { invalidUtf8In } from "./utf8.ts";

export async function* readCsv(source: ByteSource, file: string, dataset: string, maxRowChars = DEFAULT_MAX_LINE_CHARS): RowStream {
  const decoder = new TextDecoder("utf-8");
  let header: string[] | null = null;
  let row = 0;
  let field = "";
  let fields: string[] = [];
  let inQuotes = false;
  let quoteSeen = false; // a closing quote just passed; a second one means a literal quote
  let line = 1;
  let recordLine = 1;
  let first = true;
  let lastWasCR = false;
  let recordChars = 0; // characters of the record so far; past the limit it is dropped (`dropped` > 0)
  let dropped = 0;
  let fieldLen = 0; // characters of the field so far, counted also while dropping
  let pendingInvalid = 0; // replacements decoded but not yet given to a record
  let recordInvalid = 0;

  function* endRecord(): Generator<ReadItem> {
    fields.push(field);
    field = "";
    fieldLen = 0;
    const record = fields;
    fields = [];
    const over = dropped;
    const invalid = recordInvalid;
    recordChars = 0;
    dropped = 0;
    recordInvalid = 0;
    if (over > 0) {
      row++;
      yield oversizedRow(over, maxRowChars, { dataset, file, row, line: recordLine });
      return;
    }
    if (record.length === 1 && record[0] === "") return; // empty line
    if (header === null) {
      header = record;
      return;
    }
    row++;
    if (invalid > 0) yield invalidUtf8Note(invalid, { dataset, file, row, line: recordLine });
    yield toItem(header, record, { dataset, file, row, line: recordLine });
  }
  /** Adds a character to the field, unless the record is over the limit. */
  const take = (c: string) => {
    fieldLen++;
    if (c === "\ufffd" && pendingInvalid > 0) {
      pendingInvalid--;
      recordInvalid++;
    }
    if (dropped > 0) {
      dropped++;
      return;
    }
    field += c;
    if (++recordChars > maxRowChars) {
      dropped = recordChars;
      field = "";
      fields = [];
    }
  };

  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    let text = decoder.decode(chunk, { stream: true });
    pendingInvalid += invalidUtf8In(text, chunk);
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (lastWasCR) {
        lastWasCR = false;
        if (c === "\n") continue;
      }
      if (inQuotes) {
        if (quoteSeen) {
          quoteSeen = false;
          if (c === '"') {
            take('"');
            continue;
          }
          inQuotes = false; // the quote closed the field; fall through to handle c unquoted
        } else if (c === '"') {
          quoteSeen = true;
          continue;
        } else {
          if (c === "\n") line++;
          if (dropped === 0 && c !== "\ufffd" && recordChars < maxRowChars) {
            field += c; // the common case of take(c), inline on the hot path
            fieldLen++;
            recordChars++;
          } else take(c);
          continue;
        }
      }
      if (c === '"' && fieldLen === 0) inQuotes = true;
      else if (c === ",") {
        if (dropped === 0) fields.push(field);
        field = "";
        fieldLen = 0;
      } else if (c === "\n" || c === "\r") {
        lastWasCR = c === "\r";
        yield* endRecord();
        line++;
        recordLine = line;
      } else if (dropped === 0 && c !== "\ufffd" && recordChars < maxRowChars) {
        field += c;
        fieldLen++;
        recordChars++;
      } else take(c);
    }
  }
  if (inQuotes && !quoteSeen) {
    yield {
      kind: "bad",
      bad: { reason: "unparsable", detail: "unterminated quoted field at end of file", source: { dataset, file, row: row + 1, line: recordLine } },
    };
    return;
  }
  if (field !== "" || fields.length > 0 || dropped > 0) yield* endRecord();
}

function toItem(header: string[], record: string[], source: { dataset: string; file: string; row: number; line: number }): ReadItem {
  if (record.length !== header.length) {
    return {
      kind: "bad" as const,
      bad: { reason: "unparsable" as const, detail: `expected ${header.length} fields (as in the header), found ${record.length}`, source },
    };
  }
  const value: Record<string, string | boolean> = {};
  for (let i = 0; i < header.length; i++) {
    const v = record[i]!;
    const lower = v.toLowerCase();
    value[header[i]!] = lower === "true" ? true : lower === "false" ? false : v;
  }
  return { kind: "row" as const, value, source };
}
