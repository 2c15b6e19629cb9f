// The BPE model: one pre-token (a "word") to token ids, with Hugging Face's exact merge order (lowest merge
// rank first, leftmost first among equal ranks), byte fallback, unknown-token fusing and ignore_merges.
// Works on integer ids, with pair → rank in one Map keyed by a*V+b, like HF's Rust `Word::merge_all`.

export interface BpeConfig {
  vocab: Map<string, number>;
  /** Merge pairs in rank order (a later duplicate of a pair overrides an earlier one, as in HF). */
  merges: ReadonlyArray<readonly [string, string]>;
  unkToken: string | null;
  fuseUnk: boolean;
  byteFallback: boolean;
  ignoreMerges: boolean;
  continuingSubwordPrefix: string;
  endOfWordSuffix: string;
}

const utf8 = new TextEncoder();
/** Heap keys are rank * 2^32 + position, exact in a double while ranks stay below 2^21. */
const MAX_MERGES = 2 ** 21;
/** Words up to this many symbols merge by rescanning (cheaper than a heap for short words). */
const SCAN_LIMIT = 48;

function pairHash(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x632be5ab, 0x85ebca77);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 13);
}

export class BpeModel {
  readonly vocab: Map<string, number>;
  readonly idToToken: string[];
  /** Open-addressing table (left, right) → rank; the rank indexes mergedId. */
  private readonly pairLeft: Int32Array;
  private readonly pairRight: Int32Array;
  private readonly pairRankOf: Int32Array;
  private readonly pairMask: number;
  private readonly mergedId: Int32Array;
  /** Ids of single UTF-16 code units that are tokens (-1: none), when no prefix/suffix decorates them. */
  private readonly unitId: Int32Array | null;
  private readonly byteId: Int32Array;
  private readonly unkId: number;
  private readonly cfg: BpeConfig;
  // Scratch for the heap path, grown on demand.
  private sym = new Int32Array(256);
  private prev = new Int32Array(256);
  private next = new Int32Array(256);

  private constructor(cfg: BpeConfig, idToToken: string[], mergedId: Int32Array) {
    this.cfg = cfg;
    this.vocab = cfg.vocab;
    this.idToToken = idToToken;
    this.mergedId = mergedId;
    let cap = 16;
    while (cap < mergedId.length * 2) cap *= 2;
    this.pairLeft = new Int32Array(cap).fill(-1);
    this.pairRight = new Int32Array(cap);
    this.pairRankOf = new Int32Array(cap);
    this.pairMask = cap - 1;
    this.unkId = cfg.unkToken === null ? -1 : (cfg.vocab.get(cfg.unkToken) ?? -1);
    this.byteId = new Int32Array(256).fill(-1);
    for (let b = 0; b < 256; b++) {
      const id = cfg.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
      if (id !== undefined) this.byteId[b] = id;
    }
    if (cfg.continuingSubwordPrefix === "" && cfg.endOfWordSuffix === "") {
      this.unitId = new Int32Array(65536).fill(-1);
      for (const [tok, id] of cfg.vocab) if (tok.length === 1) this.unitId[tok.charCodeAt(0)] = id;
    } else this.unitId = null;
  }

  /** Builds the model; a merge naming a token outside the vocabulary is an error (as in HF). */
  static create(cfg: BpeConfig): BpeModel | string {
    if (cfg.merges.length > MAX_MERGES) return `${cfg.merges.length} merges: more than the ${MAX_MERGES} supported`;
    let maxId = -1;
    for (const id of cfg.vocab.values()) if (id > maxId) maxId = id;
    const idToToken = new Array<string>(maxId + 1);
    for (const [tok, id] of cfg.vocab) idToToken[id] = tok;
    const mergedId = new Int32Array(cfg.merges.length);
    const model = new BpeModel(cfg, idToToken, mergedId);
    const prefixLen = cfg.continuingSubwordPrefix.length;
    for (let r = 0; r < cfg.merges.length; r++) {
      const [a, b] = cfg.merges[r]!;
      const ia = cfg.vocab.get(a);
      const ib = cfg.vocab.get(b);
      const merged = a + b.slice(prefixLen);
      const im = cfg.vocab.get(merged);
      if (ia === undefined || ib === undefined || im === undefined) {
        const missing = ia === undefined ? a : ib === undefined ? b : merged;
        return `merge ${r} ("${a} ${b}") uses "${missing}", which is not in the vocabulary`;
      }
      mergedId[r] = im;
      model.setRank(ia, ib, r);
    }
    return model;
  }

  /** Appends the ids of one word (already in the model's alphabet, e.g. byte-level) to `out`. */
  encodeWord(word: string, out: number[]): void {
    if (word.length === 0) return;
    if (this.cfg.ignoreMerges) {
      const whole = this.vocab.get(word);
      if (whole !== undefined) {
        out.push(whole);
        return;
      }
    }
    const syms = this.initialSymbols(word);
    if (syms.length <= SCAN_LIMIT) this.mergeByScan(syms, out);
    else this.mergeByHeap(syms, out);
  }

  private initialSymbols(word: string): number[] {
    const syms: number[] = [];
    const unit = this.unitId;
    const { continuingSubwordPrefix: prefix, endOfWordSuffix: suffix, byteFallback, fuseUnk } = this.cfg;
    let lastWasUnk = false;
    for (let i = 0; i < word.length; ) {
      const c = word.charCodeAt(i);
      const width = c >= 0xd800 && c <= 0xdbff && i + 1 < word.length ? 2 : 1;
      let id: number | undefined;
      if (unit !== null && width === 1) id = unit[c]! >= 0 ? unit[c] : undefined;
      else {
        let s = word.slice(i, i + width);
        if (i > 0) s = prefix + s;
        if (i + width === word.length) s = s + suffix;
        id = this.vocab.get(s);
      }
      if (id !== undefined) {
        syms.push(id);
        lastWasUnk = false;
      } else if (byteFallback && this.pushBytes(word.slice(i, i + width), syms)) {
        lastWasUnk = false;
      } else if (this.unkId >= 0) {
        if (!(fuseUnk && lastWasUnk)) syms.push(this.unkId);
        lastWasUnk = true;
      }
      // Without an unknown token HF drops the character; so do we.
      i += width;
    }
    return syms;
  }

  private pushBytes(ch: string, syms: number[]): boolean {
    const bytes = utf8.encode(ch);
    for (const b of bytes) if (this.byteId[b]! < 0) return false;
    for (const b of bytes) syms.push(this.byteId[b]!);
    return true;
  }

  private setRank(a: number, b: number, r: number): void {
    let h = pairHash(a, b) & this.pairMask;
    while (this.pairLeft[h] !== -1 && !(this.pairLeft[h] === a && this.pairRight[h] === b)) h = (h + 1) & this.pairMask;
    this.pairLeft[h] = a;
    this.pairRight[h] = b;
    this.pairRankOf[h] = r;
  }

  /** Rank of the merge (a, b), or -1 when there is none. */
  private rank(a: number, b: number): number {
    const left = this.pairLeft;
    let h = pairHash(a, b) & this.pairMask;
    for (;;) {
      const k = left[h]!;
      if (k === -1) return -1;
      if (k === a && this.pairRight[h] === b) return this.pairRankOf[h]!;
      h = (h + 1) & this.pairMask;
    }
  }

  private mergeByScan(initial: number[], out: number[]): void {
    let n = initial.length;
    const syms = this.sym;
    const ranks = this.prev; // scratch: rank of the pair (i, i + 1)
    for (let i = 0; i < n; i++) syms[i] = initial[i]!;
    for (let i = 0; i < n - 1; i++) ranks[i] = this.rank(syms[i]!, syms[i + 1]!);
    while (n > 1) {
      let best = -1;
      let bestRank = 0x7fffffff;
      for (let i = 0; i < n - 1; i++) {
        const r = ranks[i]!;
        if (r >= 0 && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      syms[best] = this.mergedId[bestRank]!;
      for (let i = best + 1; i < n - 1; i++) syms[i] = syms[i + 1]!;
      for (let i = best; i < n - 2; i++) ranks[i] = ranks[i + 1]!;
      n--;
      if (best > 0) ranks[best - 1] = this.rank(syms[best - 1]!, syms[best]!);
      if (best < n - 1) ranks[best] = this.rank(syms[best]!, syms[best + 1]!);
    }
    for (let i = 0; i < n; i++) out.push(syms[i]!);
  }

  /** Linked symbols and a binary heap of (rank, position), stale entries skipped on pop. */
  private mergeByHeap(initial: number[], out: number[]): void {
    const n = initial.length;
    if (this.sym.length < n) {
      this.sym = new Int32Array(n * 2);
      this.prev = new Int32Array(n * 2);
      this.next = new Int32Array(n * 2);
    }
    const { sym, prev, next } = this;
    for (let i = 0; i < n; i++) {
      sym[i] = initial[i]!;
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    const heap: number[] = [];
    const push = (key: number) => {
      let i = heap.push(key) - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p]! <= key) break;
        heap[i] = heap[p]!;
        i = p;
      }
      heap[i] = key;
    };
    const pop = (): number => {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length > 0) {
        let i = 0;
        const len = heap.length;
        for (;;) {
          let c = 2 * i + 1;
          if (c >= len) break;
          if (c + 1 < len && heap[c + 1]! < heap[c]!) c++;
          if (heap[c]! >= last) break;
          heap[i] = heap[c]!;
          i = c;
        }
        heap[i] = last;
      }
      return top;
    };
    const SHIFT = 4294967296;
    for (let i = 0; i < n - 1; i++) {
      const r = this.rank(sym[i]!, sym[i + 1]!);
      if (r >= 0) push(r * SHIFT + i);
    }
    while (heap.length > 0) {
      const key = pop();
      const r = Math.floor(key / SHIFT);
      const pos = key - r * SHIFT;
      if (sym[pos]! < 0) continue;
      const nx = next[pos]!;
      if (nx < 0 || this.rank(sym[pos]!, sym[nx]!) !== r) continue;
      sym[pos] = this.mergedId[r]!;
      sym[nx] = -1;
      const after = next[nx]!;
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      const before = prev[pos]!;
      if (before >= 0) {
        const rb = this.rank(sym[before]!, sym[pos]!);
        if (rb >= 0) push(rb * SHIFT + before);
      }
      if (after >= 0) {
        const ra = this.rank(sym[pos]!, sym[after]!);
        if (ra >= 0) push(ra * SHIFT + pos);
      }
    }
    for (let i = 0; i >= 0; i = next[i]!) out.push(sym[i]!);
  }
}
