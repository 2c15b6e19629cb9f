// tokenizer.json `decoder`: token strings back to text, following tokenizers' Rust decoders (each one
// maps a list of token strings to a new list; the result is their concatenation).
import { pushByteLevelBytes } from "./byte-level.ts";
import { compilePattern, type PatternJson } from "./pattern.ts";

export type DecodeChain = (tokens: string[]) => string[];

interface DecoderJson {
  type: string;
  decoders?: DecoderJson[];
  pattern?: PatternJson;
  content?: string;
  start?: number;
  stop?: number;
  replacement?: string;
  prepend_scheme?: string;
  add_prefix_space?: boolean;
}

export const SUPPORTED_DECODERS = ["Sequence", "ByteLevel", "Replace", "ByteFallback", "Fuse", "Strip", "Metaspace"];

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The decoder for `json` (tokens joined with " " when there is none, as HF does), or an error message. */
export function buildDecoder(json: unknown): DecodeChain | string {
  if (json === null || json === undefined) return (tokens) => [tokens.join(" ")];
  const cfg = json as DecoderJson;
  switch (cfg.type) {
    case "Sequence": {
      const parts: DecodeChain[] = [];
      for (const child of cfg.decoders ?? []) {
        const d = buildDecoder(child);
        if (typeof d === "string") return d;
        parts.push(d);
      }
      return (tokens) => parts.reduce((t, d) => d(t), tokens);
    }
    case "ByteLevel":
      return (tokens) => {
        const bytes: number[] = [];
        for (const t of tokens) pushByteLevelBytes(t, bytes);
        return [utf8.decode(new Uint8Array(bytes))];
      };
    case "Replace": {
      const re = compilePattern(cfg.pattern);
      if (typeof re === "string") return `decoder Replace: ${re}`;
      const content = cfg.content ?? "";
      const literal = cfg.pattern?.String;
      if (literal !== undefined) return (tokens) => tokens.map((t) => t.replaceAll(literal, () => content));
      return (tokens) => tokens.map((t) => t.replace(re, () => content));
    }
    case "ByteFallback":
      return byteFallback;
    case "Fuse":
      return (tokens) => [tokens.join("")];
    case "Strip": {
      const ch = cfg.content ?? " ";
      const start = cfg.start ?? 0;
      const stop = cfg.stop ?? 0;
      return (tokens) =>
        tokens.map((t) => {
          const chars = Array.from(t);
          let s = 0;
          while (s < start && s < chars.length && chars[s] === ch) s++;
          let e = chars.length;
          while (chars.length - e < stop && e > s && chars[e - 1] === ch) e--;
          return chars.slice(s, e).join("");
        });
    }
    case "Metaspace": {
      const rep = cfg.replacement ?? "▁";
      const scheme = cfg.prepend_scheme ?? (cfg.add_prefix_space === false ? "never" : "always");
      // As in HF: in the first token every replacement character is dropped, elsewhere it becomes a space.
      return (tokens) => tokens.map((t, i) => t.replaceAll(rep, i === 0 && scheme !== "never" ? "" : " "));
    }
    default:
      return `decoder type "${cfg.type}" is not supported (supported: ${SUPPORTED_DECODERS.join(", ")})`;
  }
}

/** "<0xE4>"-style tokens become bytes; a run that is not valid UTF-8 gives one U+FFFD per byte (as HF). */
function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    try {
      out.push(utf8Strict.decode(new Uint8Array(run)));
    } catch {
      for (let i = 0; i < run.length; i++) out.push("\uFFFD");
    }
    run = [];
  };
  for (const t of tokens) {
    const b = t.length === 6 && t.startsWith("<0x") && t.endsWith(">") ? parseHexByte(t.slice(3, 5)) : -1;
    if (b >= 0) run.push(b);
    else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out;
}

function parseHexByte(h: string): number {
  return /^[0-9a-fA-F]{2}$/.test(h) ? parseInt(h, 16) : -1;
}
