// HF's `{String: ...} | {Regex: ...}` patterns as JavaScript RegExps. Regexes in tokenizer.json are written
// for Oniguruma (Rust); @huggingface/tokenizers already rewrites them for JavaScript (inline flags, \s as
// White_Space, POSIX classes), so we borrow its compiler rather than keep a second one.
import { SplitPreTokenizer } from "@huggingface/tokenizers";

export interface PatternJson {
  String?: string;
  Regex?: string;
}

/** A global, unicode RegExp for the pattern, or an error message. */
export function compilePattern(pattern: PatternJson | undefined): RegExp | string {
  if (pattern?.String !== undefined) return new RegExp(pattern.String.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gu");
  if (pattern?.Regex !== undefined) {
    try {
      const split = new SplitPreTokenizer({ type: "Split", pattern: { Regex: pattern.Regex }, behavior: "Isolated" });
      const re = (split as unknown as { pattern: RegExp | null }).pattern;
      if (re instanceof RegExp) return new RegExp(re.source, "gu");
    } catch (e) {
      return `regex ${JSON.stringify(pattern.Regex)} does not compile: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return `pattern ${JSON.stringify(pattern)} has neither "String" nor "Regex"`;
}

/**
 * Splits `text` into alternating (match / gap) ranges, like HF's `Pattern::find_matches`: the ranges
 * cover the text in order; `isMatch` tells which they are. Empty matches are skipped.
 */
export function findMatches(re: RegExp, text: string, starts: number[], ends: number[], isMatch: boolean[]): void {
  re.lastIndex = 0;
  let prev = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const s = m.index;
    const e = s + m[0].length;
    if (e === s) {
      re.lastIndex = s + (text.codePointAt(s)! > 0xffff ? 2 : 1);
      if (re.lastIndex > text.length) break;
      continue;
    }
    if (prev !== s) {
      starts.push(prev);
      ends.push(s);
      isMatch.push(false);
    }
    starts.push(s);
    ends.push(e);
    isMatch.push(true);
    prev = e;
  }
  if (prev !== text.length) {
    starts.push(prev);
    ends.push(text.length);
    isMatch.push(false);
  }
}
