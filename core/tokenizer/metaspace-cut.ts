// Where a sentencepiece-style word (spaces shown as "▁") may be cut into shorter words without changing its
// BPE ids. A merge across a cut before a "▁" that follows another character would make a token holding that
// character pair ("x▁"); when the vocabulary has no such token, no merge crosses the cut, and each piece
// merges exactly as it would inside the whole word (BPE's merge order within a piece does not depend on the
// other side). Vocabularies with a few such tokens (Gemma 3 has ">▁</") still cut everywhere except where
// one of them could span the cut. The pieces are short and repeat, so the word cache serves them.

const META = 0x2581;
/** More tokens than this across a cut: not worth checking each one at every cut. */
const MAX_CROSSING = 256;

/** A vocabulary token holding a "x▁" pair, with the offset of the "▁" after x (one entry per such pair). */
interface Crossing {
  token: string;
  at: number;
}

export interface MetaspaceCut {
  readonly crossings: readonly Crossing[];
}

/**
 * The cut rule for a vocabulary, or null when cutting is not safe: no "▁" token (not a metaspace
 * vocabulary), too many tokens across a cut, or one that holds a byte-fallback piece ("<0x..>"), whose text
 * differs from the characters it stands for (likewise the unknown token's text).
 */
export function metaspaceCutFor(vocab: ReadonlyMap<string, number>, unkToken: string | null): MetaspaceCut | null {
  if (!vocab.has("▁")) return null;
  const crossings: Crossing[] = [];
  for (const tok of vocab.keys()) {
    for (let i = 1; i < tok.length; i++) {
      if (tok.charCodeAt(i) !== META || tok.charCodeAt(i - 1) === META) continue;
      if (tok.includes("<0x") || (unkToken !== null && tok.includes(unkToken)) || crossings.length >= MAX_CROSSING) return null;
      crossings.push({ token: tok, at: i });
    }
  }
  return { crossings };
}

/** Calls `piece(start, end)` for each piece of `word`, in order, cutting before each safe "▁". */
export function cutAtMetaspace(word: string, rule: MetaspaceCut, piece: (start: number, end: number) => void): void {
  const { crossings } = rule;
  let start = 0;
  for (let i = 1; i < word.length; i++) {
    if (word.charCodeAt(i) !== META || word.charCodeAt(i - 1) === META) continue;
    if (crossings.length > 0 && spansCut(word, i, crossings)) continue;
    piece(start, i);
    start = i;
  }
  piece(start, word.length);
}

/** Whether a token across the cut before `i` matches the text there. */
function spansCut(word: string, i: number, crossings: readonly Crossing[]): boolean {
  for (const c of crossings) {
    const from = i - c.at;
    if (from >= 0 && word.startsWith(c.token, from)) return true;
  }
  return false;
}
