// Lazy line splitting over a byte stream: a file of any size is read in chunks, and only the current
// chunk and the unfinished line stay in memory. Handles a UTF-8 BOM and \n, \r\n or \r line ends.

export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Lines without their terminators, with 1-based line numbers. A final line without "\n" is included. */
export async function* readLines(source: ByteSource): AsyncGenerator<{ text: string; line: number }> {
  const decoder = new TextDecoder("utf-8");
  let rest = "";
  let line = 0;
  let first = true;
  let pendingCR = false;
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    let text = decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    // A "\r\n" split across chunks: the "\r" ended the previous line already.
    if (pendingCR && text.startsWith("\n")) text = text.slice(1);
    pendingCR = false;
    let buf = rest + text;
    let start = 0;
    // Next "\r" position, found once per chunk and advanced only when passed (files rarely have any).
    let nextR = buf.indexOf("\r");
    for (;;) {
      if (nextR >= 0 && nextR < start) nextR = buf.indexOf("\r", start);
      const nextN = buf.indexOf("\n", start);
      const nl = nextR >= 0 && (nextN < 0 || nextR < nextN) ? nextR : nextN;
      if (nl < 0) break;
      line++;
      yield { text: buf.slice(start, nl), line };
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
  }
  rest += decoder.decode();
  if (rest.length > 0) {
    line++;
    yield { text: rest, line };
  }
}
