// The check ids of test/fixtures/tokenizers/README.md, and llama.cpp's vectors (Hugging Face's ids for
// the Llama 2 and Phi-3 vocabularies, no BOS): every case must match exactly.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type FixtureName, fixture, TOKENIZERS_DIR } from "./fixtures.ts";

describe("README check ids", () => {
  const checks: Array<[FixtureName, string, number[]]> = [
    ["mistral-7b", "Hello world!", [1, 22557, 1526, 28808]],
    ["llama3", "Hello world!", [9906, 1917, 0]],
    ["llama2", "Hello world", [1, 15043, 3186]],
    ["qwen3", "Hello world!", [9707, 1879, 0]],
  ];
  for (const [name, text, ids] of checks) test(`${name}: ${JSON.stringify(text)}`, () => expect(fixture(name).encode(text)).toEqual(ids));
});

/** `X.inp`: strings separated by "\n__ggml_vocab_test__\n"; `X.out`: one line of ids per string. */
function readVectors(base: string): Array<{ text: string; ids: number[] }> {
  const inp = readFileSync(join(TOKENIZERS_DIR, "vectors", `${base}.inp`), "utf8").split("\n__ggml_vocab_test__\n");
  const out = readFileSync(join(TOKENIZERS_DIR, "vectors", `${base}.out`), "utf8").split("\n");
  inp.pop(); // the file ends with a separator
  return inp.map((text, i) => ({ text, ids: out[i]!.trim() === "" ? [] : out[i]!.trim().split(/\s+/).map(Number) }));
}

for (const [base, name] of [
  ["llama-spm", "llama2"],
  ["phi-3", "phi-3-mini"],
] as const) {
  describe(`vectors/${base} (${name})`, () => {
    const vectors = readVectors(base);
    test("has all 46 cases", () => expect(vectors.length).toBe(46));
    test("every case matches Hugging Face's ids", () => {
      const tok = fixture(name);
      const bad = vectors
        .map((v, i) => ({ i, text: v.text, got: tok.encode(v.text, { addSpecialTokens: false }), want: v.ids }))
        .filter((r) => JSON.stringify(r.got) !== JSON.stringify(r.want))
        .map((r) => `case ${r.i} ${JSON.stringify(r.text).slice(0, 60)}: got ${r.got.join(" ")} want ${r.want.join(" ")}`);
      expect(bad).toEqual([]);
    });
  });
}
