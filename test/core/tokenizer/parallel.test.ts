// parallelEncode (Bun Workers, each loading its own tokenizer) returns exactly the sequential ids, in order.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { balancedRanges, parallelEncode } from "../../../core/tokenizer/parallel.ts";
import { fixture, referenceTexts, TOKENIZERS_DIR, wikiSentences, wikiSlice } from "./fixtures.ts";

describe("parallelEncode", () => {
  const texts = [...wikiSentences(wikiSlice()), ...referenceTexts()];

  test("3 workers give the sequential ids, with and without special tokens", async () => {
    const tok = fixture("mistral-7b");
    const dir = join(TOKENIZERS_DIR, "mistral-7b");
    const par = (await parallelEncode(dir, texts, { workers: 3 }))._unsafeUnwrap();
    expect(par.length).toBe(texts.length);
    expect(par).toEqual(tok.encodeBatch(texts));
    const plain = (await parallelEncode(dir, texts.slice(0, 50), { workers: 2, addSpecialTokens: false }))._unsafeUnwrap();
    expect(plain).toEqual(texts.slice(0, 50).map((t) => tok.encode(t, { addSpecialTokens: false })));
  });

  test("more workers than texts, and no texts", async () => {
    const dir = join(TOKENIZERS_DIR, "mistral-7b");
    expect((await parallelEncode(dir, ["a b", "c"], { workers: 8 }))._unsafeUnwrap()).toEqual(fixture("mistral-7b").encodeBatch(["a b", "c"]));
    expect((await parallelEncode(dir, [], { workers: 2 }))._unsafeUnwrap()).toEqual([]);
  });

  test("a folder without a tokenizer is an Err naming the file", async () => {
    const r = await parallelEncode("/nonexistent/model", ["x"], { workers: 1 });
    expect(r.isErr() && r.error.message).toBe("/nonexistent/model/tokenizer.json: not found");
  });

  test("ranges cover every text once, in order, roughly balanced", () => {
    const weights = [5, 1, 1, 1, 1, 1, 5, 5, 1, 1];
    const ranges = balancedRanges(weights, 3);
    expect(ranges[0]![0]).toBe(0);
    expect(ranges.at(-1)![1]).toBe(weights.length);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1]);
    expect(ranges.length).toBe(3);
    expect(balancedRanges([1, 1], 5).length).toBe(2);
  });
});
