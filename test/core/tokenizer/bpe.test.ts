// The BPE model on small hand-made vocabularies, against hand-derived ids and against a naive
// reference BPE written here (repeatedly merge the lowest-ranked pair, leftmost first).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BpeConfig, BpeModel } from "../../../core/tokenizer/bpe.ts";
import { loadTokenizer } from "../../../core/tokenizer/load.ts";

function model(tokens: string[], merges: string[], extra: Partial<BpeConfig> = {}): BpeModel {
  const m = BpeModel.create({
    vocab: new Map(tokens.map((t, i) => [t, i])),
    merges: merges.map((x) => x.split(" ") as [string, string]),
    unkToken: null,
    fuseUnk: false,
    byteFallback: false,
    ignoreMerges: false,
    continuingSubwordPrefix: "",
    endOfWordSuffix: "",
    ...extra,
  });
  if (typeof m === "string") throw new Error(m);
  return m;
}

function tokens(m: BpeModel, word: string): string[] {
  const ids: number[] = [];
  m.encodeWord(word, ids);
  return ids.map((id) => m.idToToken[id]!);
}

/** The textbook algorithm on strings: O(n²) per merge, obviously right. */
function naiveBpe(word: string, merges: string[]): string[] {
  const rank = new Map(merges.map((m, i) => [m, i]));
  const syms = Array.from(word);
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < syms.length; i++) {
      const r = rank.get(`${syms[i]} ${syms[i + 1]}`);
      if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
    }
    if (best < 0) return syms;
    syms.splice(best, 2, syms[best]! + syms[best + 1]!);
  }
}

describe("BpeModel", () => {
  test("merges apply in rank order, not left to right", () => {
    expect(tokens(model(["a", "b", "c", "ab", "bc", "abc"], ["b c", "a b", "a bc"]), "abc")).toEqual(["abc"]);
    expect(tokens(model(["a", "b", "c", "ab", "bc"], ["a b", "b c"]), "abc")).toEqual(["ab", "c"]);
  });

  test("equal ranks merge leftmost first", () => {
    expect(tokens(model(["a", "aa"], ["a a"]), "aaa")).toEqual(["aa", "a"]);
  });

  test("long words (heap path) and short words (scan path) agree with the naive reference", () => {
    const vocab = ["a", "b", "c", "ab", "bc", "ca", "abc", "aa", "aaaa", "bcab", "cc"];
    const merges = ["a b", "b c", "c a", "ab c", "a a", "aa aa", "bc ab", "c c"];
    const m = model(vocab, merges);
    let seed = 7;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let long = 0;
    for (let n = 0; n < 300; n++) {
      const len = 1 + Math.floor(rand() * 160);
      const word = Array.from({ length: len }, () => "abc"[Math.floor(rand() * 3)]).join("");
      if (len > 48) long++;
      expect(tokens(m, word)).toEqual(naiveBpe(word, merges));
    }
    expect(long).toBeGreaterThan(100);
  });

  test("byte fallback spells an unknown character in <0xXX> tokens; without them it is <unk>, fused", () => {
    const bytes = ["<0xE2>", "<0x82>", "<0xAC>"];
    const fb = model(["<unk>", "a", ...bytes], [], { byteFallback: true, unkToken: "<unk>" });
    expect(tokens(fb, "a€a")).toEqual(["a", "<0xE2>", "<0x82>", "<0xAC>", "a"]);
    const unk = model(["<unk>", "a"], [], { unkToken: "<unk>", fuseUnk: true });
    expect(tokens(unk, "a€€a€")).toEqual(["a", "<unk>", "a", "<unk>"]);
    const noFuse = model(["<unk>", "a"], [], { unkToken: "<unk>" });
    expect(tokens(noFuse, "€€")).toEqual(["<unk>", "<unk>"]);
  });

  test("ignore_merges: a word that is itself a token is taken whole", () => {
    const vocab = ["a", "b", "c", "ab", "abc"];
    expect(tokens(model(vocab, ["a b"]), "abc")).toEqual(["ab", "c"]);
    expect(tokens(model(vocab, ["a b"], { ignoreMerges: true }), "abc")).toEqual(["abc"]);
  });

  test("a merge whose parts are not tokens is reported", () => {
    const m = BpeModel.create({
      vocab: new Map([["a", 0]]),
      merges: [["a", "z"]],
      unkToken: null,
      fuseUnk: false,
      byteFallback: false,
      ignoreMerges: false,
      continuingSubwordPrefix: "",
      endOfWordSuffix: "",
    });
    expect(m).toBe('merge 0 ("a z") uses "z", which is not in the vocabulary');
  });
});

describe("cutting metaspace words for the cache", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const spm = (vocab: string[], merges: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), "lft-spm-"));
    dirs.push(dir);
    const json = {
      normalizer: {
        type: "Sequence",
        normalizers: [
          { type: "Prepend", prepend: "▁" },
          { type: "Replace", pattern: { String: " " }, content: "▁" },
        ],
      },
      pre_tokenizer: null,
      model: { type: "BPE", vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), merges },
    };
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(json));
    return loadTokenizer(dir)._unsafeUnwrap();
  };
  const text = "a b a b a b a b a b a b";

  test("a sentencepiece-style vocabulary gives the same ids as whole-word BPE", () => {
    const vocab = ["▁", "a", "b", "▁a", "▁b", "▁▁"];
    const merges = ["▁ a", "▁ b", "▁ ▁"];
    const tok = spm(vocab, merges);
    const ids = tok.encode(text);
    expect(ids.map((id) => tok.idToToken(id))).toEqual(naiveBpe(`▁${text.replaceAll(" ", "▁")}`, merges));
  });

  test("a vocabulary with a token across a ▁ is not cut (the merge a▁ still happens)", () => {
    const vocab = ["▁", "a", "b", "a▁", "▁b"];
    const merges = ["a ▁", "▁ b"];
    const tok = spm(vocab, merges);
    const got = tok.encode(text).map((id) => tok.idToToken(id));
    expect(got).toEqual(naiveBpe(`▁${text.replaceAll(" ", "▁")}`, merges));
    expect(got.slice(0, 3)).toEqual(["▁", "a▁", "b"]);
  });
});
