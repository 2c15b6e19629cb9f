// The five fixture tokenizers against Hugging Face's own tokenizer (Rust `tokenizers`, ids stored by
// test/fixtures/tokenizers/reference/generate.py): every case, both with and without special tokens, both
// decodes, and a 245 kB Wikipedia slice sentence by sentence and whole. Exact equality: ids are discrete.
import { describe, expect, test } from "bun:test";
import { fixture, fnv1a, NAMES, reference, referenceTexts, wikiSentences, wikiSlice } from "./fixtures.ts";

const texts = referenceTexts();
const wiki = wikiSlice();
const sentences = wikiSentences(wiki);

/** Mismatches as readable lines (the text and both id lists), so a failure says where. */
function mismatches<T>(rows: Array<{ text: string; got: T; want: T }>): string[] {
  return rows
    .filter((r) => JSON.stringify(r.got) !== JSON.stringify(r.want))
    .slice(0, 5)
    .map((r) => `${JSON.stringify(r.text).slice(0, 100)}\n  got  ${JSON.stringify(r.got).slice(0, 200)}\n  want ${JSON.stringify(r.want).slice(0, 200)}`);
}

for (const name of NAMES) {
  describe(`${name} matches Hugging Face tokenizers`, () => {
    const tok = fixture(name);
    const ref = reference(name);

    test("reference covers every case", () => {
      expect(ref.cases.length).toBe(texts.length);
      expect(texts.length).toBeGreaterThan(400);
    });

    test("vocabulary size (model + added tokens)", () => {
      expect(tok.vocabSize).toBe(ref.vocabSizeWithAdded);
    });

    test("encode without special tokens, all cases", () => {
      expect(mismatches(texts.map((text, i) => ({ text, got: tok.encode(text, { addSpecialTokens: false }), want: ref.cases[i]!.ids })))).toEqual([]);
    });

    test("encode with special tokens, all cases", () => {
      expect(mismatches(texts.map((text, i) => ({ text, got: tok.encode(text), want: ref.cases[i]!.withSpecial })))).toEqual([]);
    });

    // The reference is the Rust tokenizers' decode, which has no clean-up step (transformers adds it).
    test("decode, and decode skipping special tokens, all cases", () => {
      const raw = { cleanUpTokenizationSpaces: false };
      expect(mismatches(texts.map((text, i) => ({ text, got: tok.decode(ref.cases[i]!.ids, raw), want: ref.cases[i]!.decoded })))).toEqual([]);
      expect(
        mismatches(
          texts.map((text, i) => ({ text, got: tok.decode(ref.cases[i]!.withSpecial, { ...raw, skipSpecialTokens: true }), want: ref.cases[i]!.decodedSkip })),
        ),
      ).toEqual([]);
    });

    test("Wikipedia slice: every sentence, then the whole text", () => {
      expect(sentences.length).toBe(ref.wiki.sentences.length);
      const bad: string[] = [];
      sentences.forEach((s, i) => {
        const ids = tok.encode(s, { addSpecialTokens: false });
        const [count, hash] = ref.wiki.sentences[i]!;
        if (ids.length !== count || fnv1a(ids) !== hash) bad.push(`sentence ${i}: ${JSON.stringify(s.slice(0, 80))}`);
      });
      expect(bad.slice(0, 5)).toEqual([]);
      const whole = tok.encode(wiki, { addSpecialTokens: false });
      expect({ count: whole.length, fnv1a: fnv1a(whole) }).toEqual({ count: ref.wiki.count, fnv1a: ref.wiki.fnv1a });
    });
  });
}
