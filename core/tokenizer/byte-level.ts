// GPT-2's byte-level alphabet: every byte maps to one printable character, so byte-level BPE vocabularies
// (Llama 3, Qwen, GPT-2) hold only printable strings. Encoding maps a word's UTF-8 bytes; decoding inverts it.

/** BYTE_TO_CHAR[b] is the character that stands for byte b (the table from GPT-2's `bytes_to_unicode`). */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const direct: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) direct.push(b);
  for (let b = 0xa1; b <= 0xac; b++) direct.push(b);
  for (let b = 0xae; b <= 0xff; b++) direct.push(b);
  const table = new Array<string>(256);
  for (const b of direct) table[b] = String.fromCharCode(b);
  let shifted = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCharCode(256 + shifted++);
  return table;
})();

/** CHAR_TO_BYTE[code unit] = byte, or -1 for characters outside the alphabet. */
export const CHAR_TO_BYTE: Int16Array = (() => {
  const t = new Int16Array(512).fill(-1);
  BYTE_TO_CHAR.forEach((c, b) => {
    t[c.charCodeAt(0)] = b;
  });
  return t;
})();

const encoder = new TextEncoder();

/** The byte-level form of `text`: its UTF-8 bytes, each as its alphabet character. */
export function toByteLevel(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  let out = "";
  if (ascii) {
    for (let i = 0; i < text.length; i++) out += BYTE_TO_CHAR[text.charCodeAt(i)]!;
    return out;
  }
  for (const b of encoder.encode(text)) out += BYTE_TO_CHAR[b]!;
  return out;
}

/**
 * Bytes of a byte-level token string, appended to `out`. A character outside the alphabet (an added
 * token such as "<|im_start|>" is ASCII and maps to itself) contributes its own UTF-8 bytes, as HF does.
 */
export function pushByteLevelBytes(token: string, out: number[]): void {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const b = c < 512 ? CHAR_TO_BYTE[c]! : -1;
    if (b >= 0) continue;
    for (const raw of encoder.encode(token)) out.push(raw);
    return;
  }
  for (let i = 0; i < token.length; i++) out.push(CHAR_TO_BYTE[token.charCodeAt(i)]!);
}
