// Added tokens (special tokens such as "<|im_start|>", and user-added ones): found in the text before the
// model runs, leftmost-longest, with HF's lstrip / rstrip / single_word rules (tokenizers'
// added_vocabulary.rs). Tokens marked `normalized` are matched in the normalised text, the others in the raw.

export interface AddedTokenSpec {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
}

/** A piece of text: an added token (id >= 0) or text for the model (id = -1). `start` is its offset. */
export interface Piece {
  text: string;
  id: number;
  start: number;
}

interface TrieNode {
  next: Map<number, TrieNode>;
  token: AddedTokenSpec | null;
}

const WORD_CHAR = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;

/** Unicode White_Space (what HF's `\s` matches; JavaScript's \s also takes U+FEFF and leaves out U+0085). */
export function isWhiteSpace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x20 ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Leftmost-longest matcher over a fixed set of strings (a trie on UTF-16 code units). */
class Matcher {
  private readonly root: TrieNode = { next: new Map(), token: null };
  private readonly first = new Uint8Array(65536);
  readonly size: number;

  constructor(entries: ReadonlyArray<readonly [string, AddedTokenSpec]>) {
    let size = 0;
    for (const [key, token] of entries) {
      if (key.length === 0) continue;
      let node = this.root;
      for (let i = 0; i < key.length; i++) {
        const c = key.charCodeAt(i);
        let child = node.next.get(c);
        if (!child) {
          child = { next: new Map(), token: null };
          node.next.set(c, child);
        }
        node = child;
      }
      node.token = token;
      this.first[key.charCodeAt(0)] = 1;
      size++;
    }
    this.size = size;
  }

  /** Splits `text` at the added tokens it holds, applying each token's strip and single-word rules. */
  split(text: string, base: number, out: Piece[]): void {
    if (this.size === 0 || text.length === 0) {
      if (text.length > 0) out.push({ text, id: -1, start: base });
      return;
    }
    let done = 0; // end of the last emitted piece
    for (let i = 0; i < text.length; ) {
      if (this.first[text.charCodeAt(i)] === 0) {
        i++;
        continue;
      }
      let node: TrieNode | undefined = this.root;
      let match: AddedTokenSpec | null = null;
      let matchEnd = i;
      for (let j = i; j < text.length; j++) {
        node = node.next.get(text.charCodeAt(j));
        if (!node) break;
        if (node.token) {
          match = node.token;
          matchEnd = j + 1;
        }
      }
      if (!match) {
        i++;
        continue;
      }
      let start = i;
      let stop = matchEnd;
      i = matchEnd;
      if (match.singleWord) {
        const before = start > 0 && WORD_CHAR.test(charBefore(text, start));
        const after = stop < text.length && WORD_CHAR.test(charAt(text, stop));
        if (before || after) continue;
      }
      if (match.lstrip) {
        let s = start;
        while (s > 0 && isWhiteSpace(text.charCodeAt(s - 1))) s--;
        start = Math.max(s, done);
      }
      if (match.rstrip) while (stop < text.length && isWhiteSpace(text.charCodeAt(stop))) stop++;
      if (done < start) out.push({ text: text.slice(done, start), id: -1, start: base + done });
      out.push({ text: text.slice(start, stop), id: match.id, start: base + start });
      done = stop;
      i = Math.max(i, stop);
    }
    if (done < text.length) out.push({ text: text.slice(done), id: -1, start: base + done });
  }
}

function charAt(text: string, i: number): string {
  return String.fromCodePoint(text.codePointAt(i)!);
}

function charBefore(text: string, i: number): string {
  const c = text.charCodeAt(i - 1);
  return c >= 0xdc00 && c <= 0xdfff && i >= 2 ? text.slice(i - 2, i) : text[i - 1]!;
}

export class AddedVocabulary {
  readonly tokens: readonly AddedTokenSpec[];
  readonly byId = new Map<number, AddedTokenSpec>();
  readonly byContent = new Map<string, AddedTokenSpec>();
  private readonly raw: Matcher;
  private readonly normalized: Matcher;
  private readonly normalize: ((s: string) => string) | null;

  /** `normalize` is the tokenizer's normaliser: normalised tokens are matched by their normalised form. */
  constructor(tokens: readonly AddedTokenSpec[], normalize: ((s: string) => string) | null) {
    this.tokens = tokens;
    this.normalize = normalize;
    for (const t of tokens) {
      this.byId.set(t.id, t);
      this.byContent.set(t.content, t);
    }
    this.raw = new Matcher(tokens.filter((t) => !t.normalized || normalize === null).map((t) => [t.content, t] as const));
    this.normalized = new Matcher(normalize === null ? [] : tokens.filter((t) => t.normalized).map((t) => [normalize(t.content), t] as const));
  }

  /**
   * Hugging Face's add_special_tokens for tokens the vocabulary already has (`idOf` gives the model's
   * id): each becomes a special added token with fresh flags (not normalised, no lstrip / rstrip /
   * single_word), so it is never split and no longer swallows whitespace, replacing what
   * tokenizer.json said of it. Tokens `idOf` does not know are returned as missing.
   */
  withSpecial(contents: readonly string[], idOf: (content: string) => number | undefined): { vocabulary: AddedVocabulary; missing: string[] } {
    const byContent = new Map(this.tokens.map((t) => [t.content, t] as const));
    const missing: string[] = [];
    for (const content of contents) {
      const id = byContent.get(content)?.id ?? idOf(content);
      if (id === undefined) missing.push(content);
      else byContent.set(content, { id, content, special: true, normalized: false, lstrip: false, rstrip: false, singleWord: false });
    }
    return { vocabulary: new AddedVocabulary([...byContent.values()], this.normalize), missing };
  }

  /** Step 1: split the raw text at non-normalised added tokens. */
  splitRaw(text: string): Piece[] {
    const out: Piece[] = [];
    this.raw.split(text, 0, out);
    return out;
  }

  /** Step 2: split one normalised piece at normalised added tokens (offsets are within the piece). */
  splitNormalized(text: string, out: Piece[]): void {
    this.normalized.split(text, 0, out);
  }
}
