// Counting the bytes a UTF-8 decoder replaced: a decoded U+FFFD is either a real U+FFFD in the data
// (the bytes EF BF BD) or a stand-in for bytes that were not UTF-8. The difference is what was lost.

/** U+FFFD characters in `text`. */
export function countReplaced(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\ufffd"); i >= 0; i = text.indexOf("\ufffd", i + 1)) n++;
  return n;
}

/** How many U+FFFD in `decoded` stand for invalid bytes of `bytes` (a real U+FFFD split across chunks may shift one count). */
export function invalidUtf8In(decoded: string, bytes: Uint8Array): number {
  if (decoded.indexOf("\ufffd") < 0) return 0;
  let real = 0;
  for (let i = bytes.indexOf(0xef); i >= 0 && i + 2 < bytes.length; i = bytes.indexOf(0xef, i + 1)) {
    if (bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) real++;
  }
  return Math.max(0, countReplaced(decoded) - real);
}
