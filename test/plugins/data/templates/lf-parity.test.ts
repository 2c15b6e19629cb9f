// The added templates against LLaMA-Factory's own encodings (test/fixtures/lf-parity): every row of
// each case must match id for id, input_ids and labels.
import { beforeAll, describe, expect, test } from "bun:test";
import type { Tokenizer } from "../../../../core/index.ts";
import { type FixtureTokenizer, fixtureTokenizer } from "../../../core/data/helpers/tokenizer.ts";
import { readCase, runCase } from "./lf-parity.ts";

/** template -> the tokenizer its cases use. */
const CASES: readonly (readonly [string, FixtureTokenizer])[] = [
  ["yi", "qwen3"],
  ["cpm4", "qwen3"],
  ["ernie", "qwen3"],
  ["mimo", "qwen3"],
  ["openchat-3.6", "llama3"],
  ["breeze", "mistral-7b"],
  ["phi_small", "phi-3-mini"],
  ["zephyr", "phi-3-mini"],
  ["starchat", "phi-3-mini"],
];
const DATASETS = ["alpaca_en_demo", "identity", "glaive_toolcall_en_demo"] as const;

const tokenizers = new Map<string, Tokenizer>();
beforeAll(async () => {
  for (const [, tok] of CASES) if (!tokenizers.has(tok)) tokenizers.set(tok, await fixtureTokenizer(tok));
});

describe("LLaMA-Factory parity of the added templates", () => {
  for (const [template, tok] of CASES) {
    for (const dataset of DATASETS) {
      const file = `${dataset}.${template}.${tok}.jsonl`;
      test(file, async () => {
        const expected = await readCase(file);
        expect(expected.length).toBeGreaterThanOrEqual(40);
        const got = await runCase(dataset, template, tokenizers.get(tok)!, expected);
        for (let i = 0; i < expected.length; i++) expect({ row: i, ...got[i] }).toEqual({ row: i, ...expected[i]! });
      });
    }
  }
});
