// The encode pipeline of a Hugging Face tokenizer.json: added tokens → normaliser → added tokens found in
// the normalised text → pre-tokenizer → BPE per word (through a word → ids cache) → special-token wrap.
// The cache is what makes this fast: natural text repeats a small set of words, as HF's Rust BPE exploits.
import type { AddedVocabulary, Piece } from "./added-tokens.ts";
import type { BpeModel } from "./bpe.ts";
import { cutAtMetaspace, type MetaspaceCut } from "./metaspace-cut.ts";
import type { Normalize } from "./normalizer.ts";
import type { SpecialWrap } from "./post-processor.ts";
import type { PreTokenizer } from "./pre-tokenizer.ts";

export interface EncoderParts {
  added: AddedVocabulary;
  normalize: Normalize | null;
  preTokenizer: PreTokenizer | null;
  model: BpeModel;
  wrap: SpecialWrap;
  /**
   * Words may be cut before each "▁" that follows another character, where no vocabulary token can span the
   * cut (metaspace-cut.ts); null: never cut. Without it, a metaspace tokenizer with no pre-tokenizer (or
   * Gemma 3's, which splits on the spaces its normaliser has already replaced) would give the model the
   * whole text as one word.
   */
  metaspaceCut: MetaspaceCut | null;
}

/** Words longer than this are encoded but not cached (long words rarely repeat). */
const MAX_CACHED_WORD = 64;
/** The cache is emptied when it grows past this many words, which bounds its memory. */
const CACHE_CAPACITY = 200_000;

export class Encoder {
  private readonly cache = new Map<string, number[]>();
  private readonly p: EncoderParts;
  private readonly toModel: ((w: string) => string) | null;

  constructor(parts: EncoderParts) {
    this.p = parts;
    this.toModel = parts.preTokenizer?.toModel ?? null;
  }

  /** The same pipeline with other added tokens (a fresh word cache). */
  withAdded(added: AddedVocabulary): Encoder {
    return new Encoder({ ...this.p, added });
  }

  encode(text: string, addSpecialTokens: boolean): number[] {
    const out: number[] = addSpecialTokens ? [...this.p.wrap.prefix] : [];
    const { added, normalize } = this.p;
    const sub: Piece[] = [];
    for (const piece of added.splitRaw(text)) {
      if (piece.id >= 0) {
        out.push(piece.id);
        continue;
      }
      const normalized = normalize ? normalize(piece.text) : piece.text;
      sub.length = 0;
      added.splitNormalized(normalized, sub);
      for (const s of sub) {
        if (s.id >= 0) out.push(s.id);
        else this.encodeSection(s.text, piece.start === 0 && s.start === 0, out);
      }
    }
    if (addSpecialTokens) for (const id of this.p.wrap.suffix) out.push(id);
    return out;
  }

  /** Number of words the cache holds. */
  get cachedWords(): number {
    return this.cache.size;
  }

  /** Empties the word cache (to free its memory, or to measure a cold encode). */
  clearCache(): void {
    this.cache.clear();
  }

  private encodeSection(text: string, atStart: boolean, out: number[]): void {
    const pre = this.p.preTokenizer;
    if (pre === null) {
      this.encodeWord(text, out);
      return;
    }
    for (const w of pre.split(text, atStart)) this.encodeWord(w, out);
  }

  private encodeWord(word: string, out: number[]): void {
    const rule = this.p.metaspaceCut;
    if (rule === null || word.length <= 16) {
      this.encodeCached(word, out);
      return;
    }
    cutAtMetaspace(word, rule, (start, end) => this.encodeCached(start === 0 && end === word.length ? word : word.slice(start, end), out));
  }

  private encodeCached(word: string, out: number[]): void {
    const hit = this.cache.get(word);
    if (hit !== undefined) {
      for (let i = 0; i < hit.length; i++) out.push(hit[i]!);
      return;
    }
    const ids: number[] = [];
    this.p.model.encodeWord(this.toModel ? this.toModel(word) : word, ids);
    if (word.length <= MAX_CACHED_WORD) {
      if (this.cache.size >= CACHE_CAPACITY) this.cache.clear();
      this.cache.set(word, ids);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  }
}
