// tokenizer.json `pre_tokenizer`: splits normalised text into words for the model, following tokenizers'
// Rust pre-tokenizers (Split with its five behaviours, ByteLevel, Metaspace, Digits, Sequence). A final
// ByteLevel's character mapping is left to `toModel`, so the word cache is keyed by the raw word and the
// mapping runs only on a cache miss.
import { ByteLevelPreTokenizer } from "@huggingface/tokenizers";
import { toByteLevel } from "./byte-level.ts";
import { compilePattern, findMatches, type PatternJson } from "./pattern.ts";

export interface PreTokenizer {
  /** Words of one normalised piece; `atStart`: the piece begins the input (Metaspace's "first" scheme). */
  split(text: string, atStart: boolean): string[];
  /** Maps a word from split() into the model's alphabet, or null when words are already in it. */
  readonly toModel: ((word: string) => string) | null;
}

interface PreTokenizerJson {
  type: string;
  pretokenizers?: PreTokenizerJson[];
  pattern?: PatternJson;
  behavior?: string;
  invert?: boolean;
  add_prefix_space?: boolean;
  use_regex?: boolean;
  replacement?: string;
  prepend_scheme?: string;
  split?: boolean;
  individual_digits?: boolean;
}

type Stage = (words: string[], atStart: boolean) => string[];
type Behavior = "Removed" | "Isolated" | "MergedWithPrevious" | "MergedWithNext" | "Contiguous";
const BEHAVIORS: readonly string[] = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"];

export const SUPPORTED_PRE_TOKENIZERS = ["Sequence", "Split", "ByteLevel", "Metaspace", "Digits"];

/** GPT-2's word regex, as @huggingface/tokenizers writes it for JavaScript. */
const GPT2_PATTERN: RegExp = new ByteLevelPreTokenizer({ type: "ByteLevel" }).pattern as RegExp;

/** The pre-tokenizer for `json` (null when there is none), or an error message. */
export function buildPreTokenizer(json: unknown): PreTokenizer | null | string {
  if (json === null || json === undefined) return null;
  const flat: PreTokenizerJson[] = [];
  const flatten = (cfg: PreTokenizerJson) => {
    if (cfg.type === "Sequence") for (const c of cfg.pretokenizers ?? []) flatten(c);
    else flat.push(cfg);
  };
  flatten(json as PreTokenizerJson);
  const stages: Stage[] = [];
  let toModel: ((word: string) => string) | null = null;
  for (let i = 0; i < flat.length; i++) {
    const cfg = flat[i]!;
    const last = i === flat.length - 1;
    const stage = buildStage(cfg);
    if (typeof stage === "string") return stage;
    stages.push(stage);
    if (cfg.type === "ByteLevel") {
      if (last) toModel = toByteLevel;
      else stages.push((words) => words.map(toByteLevel));
    }
  }
  if (stages.length === 1) {
    const only = stages[0]!;
    return { split: (text: string, atStart: boolean) => only([text], atStart), toModel };
  }
  return {
    split(text: string, atStart: boolean) {
      let words = [text];
      for (const s of stages) words = s(words, atStart);
      return words;
    },
    toModel,
  };
}

function buildStage(cfg: PreTokenizerJson): Stage | string {
  switch (cfg.type) {
    case "Split": {
      const re = compilePattern(cfg.pattern);
      if (typeof re === "string") return `pre_tokenizer Split: ${re}`;
      const behavior = cfg.behavior ?? "Isolated";
      if (!BEHAVIORS.includes(behavior)) return `pre_tokenizer Split: behavior "${behavior}" is not one of ${BEHAVIORS.join(", ")}`;
      if (behavior === "Isolated" && !cfg.invert) return (words) => eachWord(words, (w, out) => splitIsolated(re, w, out));
      return (words) => eachWord(words, (w, out) => splitBy(re, w, behavior as Behavior, cfg.invert ?? false, out));
    }
    case "ByteLevel": {
      const prefixSpace = cfg.add_prefix_space ?? true;
      const useRegex = cfg.use_regex ?? true;
      const re = new RegExp(GPT2_PATTERN.source, "gu");
      return (words) =>
        eachWord(words, (w, out) => {
          const text = prefixSpace && !w.startsWith(" ") ? ` ${w}` : w;
          if (useRegex) splitIsolated(re, text, out);
          else out.push(text);
        });
    }
    case "Metaspace": {
      const rep = cfg.replacement ?? "▁";
      const scheme = cfg.prepend_scheme ?? (cfg.add_prefix_space === false ? "never" : "always");
      if (!["always", "first", "never"].includes(scheme)) return `pre_tokenizer Metaspace: prepend_scheme "${scheme}" is not always, first or never`;
      const split = cfg.split ?? true;
      const re = new RegExp(rep.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gu");
      return (words, atStart) =>
        eachWord(words, (w, out, index) => {
          let text = w.replaceAll(" ", rep);
          const prepend = scheme === "always" || (scheme === "first" && atStart && index === 0);
          if (prepend && !text.startsWith(rep)) text = rep + text;
          if (split) splitBy(re, text, "MergedWithNext", false, out);
          else out.push(text);
        });
    }
    case "Digits": {
      const re = cfg.individual_digits ? /\p{N}/gu : /\p{N}+/gu;
      return (words) => eachWord(words, (w, out) => splitIsolated(re, w, out));
    }
    default:
      return `pre_tokenizer type "${cfg.type}" is not supported (supported: ${SUPPORTED_PRE_TOKENIZERS.join(", ")})`;
  }
}

function eachWord(words: string[], fn: (w: string, out: string[], index: number) => void): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) fn(words[i]!, out, i);
  return out;
}

/** Matches and the gaps between them, each its own word (the common case, kept allocation-light). */
export function splitIsolated(re: RegExp, text: string, out: string[]): void {
  re.lastIndex = 0;
  let prev = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const s = m.index;
    const len = m[0].length;
    if (len === 0) {
      re.lastIndex = s + (text.codePointAt(s)! > 0xffff ? 2 : 1);
      if (re.lastIndex > text.length) break;
      continue;
    }
    if (prev !== s) out.push(text.slice(prev, s));
    out.push(m[0]);
    prev = s + len;
  }
  if (prev < text.length) out.push(prev === 0 ? text : text.slice(prev));
}

/** HF's `NormalizedString::split` with a delimiter behaviour. */
function splitBy(re: RegExp, text: string, behavior: Behavior, invert: boolean, out: string[]): void {
  const starts: number[] = [];
  const ends: number[] = [];
  const isMatch: boolean[] = [];
  findMatches(re, text, starts, ends, isMatch);
  if (invert) for (let i = 0; i < isMatch.length; i++) isMatch[i] = !isMatch[i];
  const s: number[] = [];
  const e: number[] = [];
  const n = starts.length;
  if (behavior === "Isolated" || behavior === "Removed") {
    for (let i = 0; i < n; i++) {
      if (behavior === "Removed" && isMatch[i]) continue;
      s.push(starts[i]!);
      e.push(ends[i]!);
    }
  } else if (behavior === "Contiguous" || behavior === "MergedWithPrevious") {
    let previous = false;
    for (let i = 0; i < n; i++) {
      const m = isMatch[i]!;
      const join = behavior === "Contiguous" ? m === previous : m && !previous;
      if (join && s.length > 0) e[e.length - 1] = ends[i]!;
      else {
        s.push(starts[i]!);
        e.push(ends[i]!);
      }
      previous = m;
    }
  } else {
    // MergedWithNext: walk backwards, a match joins the piece after it.
    let previous = false;
    for (let i = n - 1; i >= 0; i--) {
      const m = isMatch[i]!;
      if (m && !previous && s.length > 0) s[s.length - 1] = starts[i]!;
      else {
        s.push(starts[i]!);
        e.push(ends[i]!);
      }
      previous = m;
    }
    s.reverse();
    e.reverse();
  }
  for (let i = 0; i < s.length; i++) if (e[i]! > s[i]!) out.push(text.slice(s[i], e[i]));
}
