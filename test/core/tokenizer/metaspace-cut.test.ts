// Cutting sentencepiece words at "▁" for the word cache (core/tokenizer/metaspace-cut.ts): the cut rule on
// hand-made vocabularies against a naive whole-word BPE, and Gemma 3's tokenizer (a Split pre-tokenizer and
// one token, ">▁</", across a cut) against @huggingface/tokenizers on the same text.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as PeerTokenizer } from "@huggingface/tokenizers";
import { loadTokenizer } from "../../../core/tokenizer/load.ts";
import { cutAtMetaspace, metaspaceCutFor } from "../../../core/tokenizer/metaspace-cut.ts";
import { TOKENIZERS_DIR } from "./fixtures.ts";

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

function pieces(word: string, vocab: string[]): string[] {
  const rule = metaspaceCutFor(new Map(vocab.map((t, i) => [t, i])), null);
  if (rule === null) return [word];
  const out: string[] = [];
  cutAtMetaspace(word, rule, (s, e) => out.push(word.slice(s, e)));
  return out;
}

describe("metaspace cut rule", () => {
  test("cuts before each ▁ that follows another character", () => {
    expect(pieces("▁a▁▁b▁c", ["▁", "a", "b", "c"])).toEqual(["▁a", "▁▁b", "▁c"]);
  });

  test("does not cut where a token across the cut matches the text", () => {
    expect(pieces("▁x>▁</y▁z>▁w", ["▁", ">▁</"])).toEqual(["▁x>▁</y", "▁z>", "▁w"]);
  });

  test("no rule for a vocabulary without ▁, or with a byte-fallback or unknown token across a cut", () => {
    expect(metaspaceCutFor(new Map([["a", 0]]), null)).toBeNull();
    expect(
      metaspaceCutFor(
        new Map([
          ["▁", 0],
          ["<0x41>▁", 1],
        ]),
        null,
      ),
    ).toBeNull();
    expect(
      metaspaceCutFor(
        new Map([
          ["▁", 0],
          ["<unk>▁", 1],
        ]),
        "<unk>",
      ),
    ).toBeNull();
  });
});

describe("tokenizers with a token across a cut", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  // Gemma 3's shape: Replace " " → "▁", then a Split on " " (which finds none), no Prepend.
  const gemmaLike = (vocab: string[], merges: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), "lft-cut-"));
    dirs.push(dir);
    const json = {
      normalizer: { type: "Replace", pattern: { String: " " }, content: "▁" },
      pre_tokenizer: { type: "Split", pattern: { String: " " }, behavior: "MergedWithPrevious", invert: false },
      model: { type: "BPE", vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), merges },
    };
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(json));
    return loadTokenizer(dir)._unsafeUnwrap();
  };

  test("ids equal whole-word BPE, with the crossing merge made where the text allows it", () => {
    const vocab = ["▁", "<", ">", "/", "x", "y", ">▁", "▁<", "</", "▁</", ">▁</", "▁x", "▁y"];
    const merges = ["> ▁", "▁ <", "< /", "▁ </", ">▁ </", "▁ x", "▁ y"];
    const tok = gemmaLike(vocab, merges);
    for (const text of ["x> </y x> y </x", " x> </y>  </ x", "> </> </> </"]) {
      const got = tok.encode(text).map((id) => tok.idToToken(id));
      expect(got).toEqual(naiveBpe(text.replaceAll(" ", "▁"), merges));
    }
    expect(tok.encode("x> </y").map((id) => tok.idToToken(id))).toEqual(["x", ">▁</", "y"]);
  });
});

describe("Gemma 3 tokenizer (262,144 tokens)", () => {
  const dir = join(TOKENIZERS_DIR, "gemma3");
  const tok = loadTokenizer(dir)._unsafeUnwrap();
  const peer = new PeerTokenizer(
    JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
    JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
  );

  test("exact ids where >▁</ spans a cut, and where it does not", () => {
    expect(tok.encode("x> </y", { addSpecialTokens: false })).toEqual([236781, 107068, 236762]);
    expect(tok.encode("<b> </b>", { addSpecialTokens: false })).toEqual([200, 236743, 209]);
    expect(tok.encode("Hello world!")).toEqual([2, 9259, 1902, 236888]);
  });

  test("ids equal @huggingface/tokenizers' on 20 kB of wiki_demo.txt and on HTML", () => {
    const wiki = join(import.meta.dir, "..", "..", "fixtures", "llamafactory-data", "wiki_demo.txt");
    const text = new TextDecoder().decode(readFileSync(wiki).subarray(0, 20_000)).replace(/\uFFFD$/, "");
    const html = "<p>a</p> </p>\n<ul> <li>x> </li></ul>  <br> </br>";
    for (const t of [text, html]) expect(tok.encode(t, { addSpecialTokens: false })).toEqual(peer.encode(t, { add_special_tokens: false }).ids);
  });
});
