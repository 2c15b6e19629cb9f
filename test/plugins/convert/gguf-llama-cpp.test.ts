// `lft export --gguf` checked by llama.cpp itself (node-llama-cpp, run under Node in a child process):
// stories260K and a small random model of each exported family are written as f32, f16 and q8_0;
// llama.cpp greedily continues a prompt's ids, and lft scores the same sequence (teacher forcing):
// every token llama.cpp chose must be lft's top token, or within a stated tolerance of it (a near
// tie), and for f32 files llama.cpp's log-probabilities of its 8 likeliest next tokens must be lft's
// within a stated tolerance at every step (this catches what changes no greedy token). llama.cpp keeps its KV cache in f16, so even its f32 files carry ~1e-3 relative noise; q8_0
// also rounds activations to 8 bits. Random weights use init std 0.2 (not the presets' 0.02) so logits
// spread out. Families other than Qwen3 take the 32k Llama 2 tokenizer here (their weights and layout
// are what is checked; reading Gemma's 256k and Qwen's 151k vocabularies would cost this test 20 s); the
// byte-level BPE metadata is checked on Qwen3's real tokenizer, the sentencepiece kind on stories260K.
// RoPE scalings: Llama 3.1's llama3 (a rope_freqs tensor) and YaRN on Qwen2 and Qwen3, each also built
// without its scaling to show the scaling changes lft's logits (so the check could fail).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertLlama2c, GGUF_TYPES } from "../../../plugins/convert/index.ts";
import { type Case, expectAgreement, hasNode, LlamaCppCheck, LOGPROB_TOLERANCE, PROMPT, TOLERANCE } from "./llama-cpp-check.ts";

const FIXTURE = join(import.meta.dir, "../../fixtures/stories260K");
const LLAMA3 = { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 };
const YARN = { rope_type: "yarn", factor: 4, original_max_position_embeddings: 64 };
const CASES: Case[] = [
  { key: "llama", family: "llama" },
  { key: "mistral", family: "mistral" },
  { key: "qwen2", family: "qwen2" },
  { key: "qwen3", family: "qwen3", ownTokenizer: true, text: true },
  { key: "gemma", family: "gemma" },
  { key: "llama-llama3", family: "llama", config: { rope_scaling: LLAMA3 }, without: ["rope_scaling"] },
  { key: "qwen2-yarn", family: "qwen2", config: { max_position_embeddings: 256, rope_scaling: YARN }, without: ["rope_scaling"] },
  { key: "qwen3-yarn", family: "qwen3", config: { max_position_embeddings: 256, rope_scaling: YARN }, without: ["rope_scaling"] },
];
const SCALED = CASES.filter((c) => c.without);

let work = "";
let check: LlamaCppCheck;

beforeAll(() => {
  if (!hasNode) return;
  work = mkdtempSync(join(tmpdir(), "lft-gguf-"));
  check = new LlamaCppCheck(work);
  const stories = join(work, "stories260K");
  convertLlama2c(join(FIXTURE, "stories260K.bin"), join(FIXTURE, "tok512.bin"), stories)._unsafeUnwrap();
  check.run(CASES, [{ key: "stories260K", dir: stories, prompt: [1, 403, 407], text: true, types: GGUF_TYPES }]);
}, 150_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!hasNode)("lft export --gguf, read by llama.cpp", () => {
  for (const key of ["stories260K", ...CASES.map((c) => c.key)])
    for (const type of GGUF_TYPES)
      test(`${key} ${type}: llama.cpp's greedy tokens are lft's (up to near ties of ${TOLERANCE[type]})${type === "f32" ? `, its top log-probabilities within ${LOGPROB_TOLERANCE}` : ""}`, () => {
        expectAgreement(check, key, type);
        // A trained model has clear margins: its f32 file must give lft's exact continuation.
        if (key === "stories260K" && type === "f32") expect(check.answer(key, type).tokens).toEqual(check.lftGreedy.get(key)!);
      });
  test("llama.cpp tokenizes text as lft does (sentencepiece-style stories260K, byte-level BPE qwen3)", () => {
    for (const key of ["stories260K", "qwen3"]) {
      const lft = check.lftText.get(key)!;
      expect(lft.length).toBeGreaterThan(10);
      expect(check.answer(key, "f32").textIds).toEqual(lft);
    }
  });
  test(`the RoPE scalings change lft's logits (${SCALED.map((c) => c.key).join(", ")}), so the checks above could fail`, () => {
    for (const c of SCALED) {
      const m = check.model(c.key);
      const scaled = check.logits(m.dir, PROMPT).all;
      const plain = check.logits(m.plainDir!, PROMPT).all;
      let diff = 0;
      for (let i = 0; i < scaled.length; i++) diff = Math.max(diff, Math.abs(scaled[i]! - plain[i]!));
      expect(diff).toBeGreaterThan(0.5);
    }
  });
});

test.skipIf(hasNode)("llama.cpp check skipped: node is not on PATH (node-llama-cpp runs under Node)", () => {});
