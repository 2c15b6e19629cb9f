// Lazy line splitting over a byte stream: a file of any size is read in chunks, and only the current
// chunk and the unfinished line stay in memory. Handles a UTF-8 BOM and \n, \r\n or \r line ends.
// A line longer than the limit is not kept: it is reported by its length and skipped to its end, so a
// file without line breaks (or a device of zeros behind a symlink) cannot fill memory. Bytes that are
// not UTF-8 become U+FFFD as before, and each line says how many of its characters were made so.
import { countReplaced, invalidUtf8In } from "./utf8.ts";

export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** 64 Mi characters: far above any real row, far below what would exhaust memory. */
export const DEFAULT_MAX_LINE_CHARS = 64 * 1024 * 1024;

export interface Line {
  readonly text: string;
  /** 1-based line number. */
  readonly line: number;
  /** U+FFFD characters in `text` that replaced bytes which were not UTF-8 (absent when none). */
  readonly invalidUtf8?: number;
  /** Set when the line was longer than the limit: its length so far, and `text` is "". */
  readonly tooLong?: number;
}

/** Lines without their terminators, with 1-based line numbers. A final line without "\n" is included. */
export async function* readLines(source: ByteSource, maxLineChars = DEFAULT_MAX_LINE_CHARS): AsyncGenerator<Line> {
  const decoder = new TextDecoder("utf-8");
  let rest = "";
  let line = 0;
  let first = true;
  let pendingCR = false;
  // Replacements decoded but not yet given to a line; given in order to the lines holding U+FFFD.
  let pendingInvalid = 0;
  // Inside a line over the limit: drop text up to its end.
  let skipping = false;
  const made = (text: string): Line => {
    line++;
    if (text.length > maxLineChars) return { text: "", line, tooLong: text.length };
    if (pendingInvalid === 0) return { text, line };
    const n = Math.min(pendingInvalid, countReplaced(text));
    pendingInvalid -= n;
    return n === 0 ? { text, line } : { text, line, invalidUtf8: n };
  };
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    let text = decoder.decode(chunk, { stream: true });
    pendingInvalid += invalidUtf8In(text, chunk);
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    // A "\r\n" split across chunks: the "\r" ended the previous line already.
    if (pendingCR && text.startsWith("\n")) text = text.slice(1);
    pendingCR = false;
    if (skipping) {
      const end = lineEnd(text, 0);
      if (end < 0) continue;
      skipping = false;
      pendingInvalid = 0;
      if (text[end] === "\r" && end + 1 === text.length) pendingCR = true;
      text = text.slice(text[end] === "\r" && text[end + 1] === "\n" ? end + 2 : end + 1);
    }
    let buf = rest + text;
    let start = 0;
    // Next "\r" position, found once per chunk and advanced only when passed (files rarely have any).
    let nextR = buf.indexOf("\r");
    for (;;) {
      if (nextR >= 0 && nextR < start) nextR = buf.indexOf("\r", start);
      const nextN = buf.indexOf("\n", start);
      const nl = nextR >= 0 && (nextN < 0 || nextR < nextN) ? nextR : nextN;
      if (nl < 0) break;
      yield made(buf.slice(start, nl));
      if (nl === nextR) {
        if (nl + 1 < buf.length) start = buf.charCodeAt(nl + 1) === 10 ? nl + 2 : nl + 1;
        else {
          start = nl + 1;
          pendingCR = true;
        }
      } else start = nl + 1;
    }
    rest = buf.slice(start);
    buf = "";
    if (rest.length > maxLineChars) {
      yield made(rest);
      rest = "";
      skipping = true;
    }
  }
  rest += decoder.decode();
  if (rest.length > 0 && !skipping) yield made(rest);
}

function lineEnd(text: string, from: number): number {
  const n = text.indexOf("\n", from);
  const r = text.indexOf("\r", from);
  return r >= 0 && (n < 0 || r < n) ? r : n;
}
