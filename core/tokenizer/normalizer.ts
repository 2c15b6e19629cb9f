// tokenizer.json `normalizer` as a string → string function, following tokenizers' Rust normalizers
// (Prepend only touches non-empty text; Strip uses Unicode White_Space).
import { isWhiteSpace } from "./added-tokens.ts";
import { compilePattern, type PatternJson } from "./pattern.ts";

export type Normalize = (text: string) => string;

interface NormalizerJson {
  type: string;
  normalizers?: NormalizerJson[];
  prepend?: string;
  pattern?: PatternJson;
  content?: string;
  strip_left?: boolean;
  strip_right?: boolean;
}

export const SUPPORTED_NORMALIZERS = ["Sequence", "Prepend", "Replace", "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Strip", "StripAccents"];

/** The normaliser for `json` (null when there is none), or an error message. */
export function buildNormalizer(json: unknown): Normalize | null | string {
  if (json === null || json === undefined) return null;
  const cfg = json as NormalizerJson;
  switch (cfg.type) {
    case "Sequence": {
      const parts: Normalize[] = [];
      for (const child of cfg.normalizers ?? []) {
        const n = buildNormalizer(child);
        if (typeof n === "string") return n;
        if (n) parts.push(n);
      }
      return (text) => {
        for (const n of parts) text = n(text);
        return text;
      };
    }
    case "Prepend": {
      const prefix = cfg.prepend ?? "";
      return (text) => (text.length > 0 ? prefix + text : text);
    }
    case "Replace": {
      const re = compilePattern(cfg.pattern);
      if (typeof re === "string") return `normalizer Replace: ${re}`;
      const content = cfg.content ?? "";
      const literal = cfg.pattern?.String;
      if (literal !== undefined) return (text) => text.replaceAll(literal, () => content);
      return (text) => text.replace(re, () => content);
    }
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD": {
      const form = cfg.type;
      return (text) => text.normalize(form);
    }
    case "Lowercase":
      return (text) => text.toLowerCase();
    case "StripAccents":
      return (text) => text.replace(/\p{Mn}/gu, "");
    case "Strip": {
      const left = cfg.strip_left ?? true;
      const right = cfg.strip_right ?? true;
      return (text) => {
        let s = 0;
        let e = text.length;
        if (left) while (s < e && isWhiteSpace(text.charCodeAt(s))) s++;
        if (right) while (e > s && isWhiteSpace(text.charCodeAt(e - 1))) e--;
        return text.slice(s, e);
      };
    }
    default:
      return `normalizer type "${cfg.type}" is not supported (supported: ${SUPPORTED_NORMALIZERS.join(", ")})`;
  }
}
