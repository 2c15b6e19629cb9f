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
  ["qwen3_5", "qwen3"],
  ["openchat-3.6", "llama3"],
  ["breeze", "mistral-7b"],
  ["phi_small", "phi-3-mini"],
  ["zephyr", "phi-3-mini"],
  ["starchat", "phi-3-mini"],
];
const DATASETS = ["alpaca_en_demo", "identity", "glaive_toolcall_en_demo"] as const;

/**
 * Cases that need shared slot machinery fixed on the parity branch (issue 13, items 1 and 3), not a
 * template definition: they run as `test.failing` here, so they fail loudly once the fix is merged
 * and must then be removed from this list.
 * - function-call turns in templates without a function slot use the assistant slots (the "\n\n"
 *   after ernie's <|im_end|>, the "\n" after yi's and cpm4's);
 * - stop words re-registered as special tokens lose rstrip (phi-3-mini's <|end|> keeps "▁\n" after it).
 */
const PENDING_MACHINERY = new Set([
  "glaive_toolcall_en_demo.yi.qwen3.jsonl",
  "glaive_toolcall_en_demo.cpm4.qwen3.jsonl",
  "glaive_toolcall_en_demo.ernie.qwen3.jsonl",
  "alpaca_en_demo.phi_small.phi-3-mini.jsonl",
  "identity.phi_small.phi-3-mini.jsonl",
  "glaive_toolcall_en_demo.phi_small.phi-3-mini.jsonl",
  "alpaca_en_demo.starchat.phi-3-mini.jsonl",
  "identity.starchat.phi-3-mini.jsonl",
  "glaive_toolcall_en_demo.starchat.phi-3-mini.jsonl",
]);

const tokenizers = new Map<string, Tokenizer>();
beforeAll(async () => {
  for (const [, tok] of CASES) if (!tokenizers.has(tok)) tokenizers.set(tok, await fixtureTokenizer(tok));
});

describe("LLaMA-Factory parity of the added templates", () => {
  for (const [template, tok] of CASES) {
    for (const dataset of DATASETS) {
      const file = `${dataset}.${template}.${tok}.jsonl`;
      (PENDING_MACHINERY.has(file) ? test.failing : test)(file, async () => {
        const expected = await readCase(file);
        expect(expected.length).toBeGreaterThanOrEqual(40);
        const got = await runCase(dataset, template, tokenizers.get(tok)!, expected);
        for (let i = 0; i < expected.length; i++) expect({ row: i, ...got[i] }).toEqual({ row: i, ...expected[i]! });
      });
    }
  }
});
