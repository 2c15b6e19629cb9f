// CSV (RFC 4180) read lazily: the first record is the header, each later record a row of strings.
// Quoted fields may hold commas, quotes ("") and line breaks. "true"/"false" become booleans (as
// pandas infers for Hugging Face's csv loader), so a kto_tag column works; all else stays text.
import type { ByteSource } from "./lines.ts";
import type { RowStream } from "./rows.ts";

export async function* readCsv(source: ByteSource, file: string, dataset: string): RowStream {
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

  function* endRecord(): Generator<ReturnType<typeof toItem>> {
    fields.push(field);
    field = "";
    const record = fields;
    fields = [];
    if (record.length === 1 && record[0] === "") return; // empty line
    if (header === null) {
      header = record;
      return;
    }
    row++;
    yield toItem(header, record, { dataset, file, row, line: recordLine });
  }

  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    let text = decoder.decode(chunk, { stream: true });
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
            field += '"';
            continue;
          }
          inQuotes = false; // the quote closed the field; fall through to handle c unquoted
        } else if (c === '"') {
          quoteSeen = true;
          continue;
        } else {
          if (c === "\n") line++;
          field += c;
          continue;
        }
      }
      if (c === '"' && field === "") inQuotes = true;
      else if (c === ",") {
        fields.push(field);
        field = "";
      } else if (c === "\n" || c === "\r") {
        lastWasCR = c === "\r";
        yield* endRecord();
        line++;
        recordLine = line;
      } else field += c;
    }
  }
  if (inQuotes && !quoteSeen) {
    yield {
      kind: "bad",
      bad: { reason: "unparsable", detail: "unterminated quoted field at end of file", source: { dataset, file, row: row + 1, line: recordLine } },
    };
    return;
  }
  if (field !== "" || fields.length > 0) yield* endRecord();
}

function toItem(header: string[], record: string[], source: { dataset: string; file: string; row: number; line: number }) {
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
