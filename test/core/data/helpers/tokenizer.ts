// Real tokenizers for the data tests: lft's own loadTokenizer on the fixture tokenizer.json files
// (test/core/tokenizer proves its ids equal Hugging Face's). Loaded once per name per test process.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadTokenizer } from "../../../../core/index.ts";
import type { Tokenizer } from "../../../../core/tokenizer/tokenizer.ts";

export type FixtureTokenizer = "qwen3" | "llama3" | "llama2" | "mistral-7b" | "phi-3-mini";

export function tokenizerDir(name: FixtureTokenizer): string {
  const local = join(import.meta.dir, "../../../fixtures/tokenizers", name);
  return existsSync(join(local, "tokenizer.json")) ? local : join(import.meta.dir, "../../../../../shared/fixtures/tokenizers", name);
}

const cache = new Map<string, Tokenizer>();

export async function fixtureTokenizer(name: FixtureTokenizer): Promise<Tokenizer> {
  const hit = cache.get(name);
  if (hit) return hit;
  const own = loadTokenizer(tokenizerDir(name))._unsafeUnwrap();
  cache.set(name, own);
  return own;
}

/** A tiny byte-level tokenizer (id = byte + 3; 0 pad, 1 bos, 2 eos) for tests that need no real vocabulary. */
export function byteTokenizer(opts: { addsBos?: boolean } = {}): Tokenizer {
  const specials = ["<pad>", "<s>", "</s>"];
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  return {
    vocabSize: 259,
    bosId: 1,
    eosId: 2,
    padId: 0,
    specialTokens: new Set(specials),
    encode(text, o) {
      const ids: number[] = [];
      if (opts.addsBos && (o?.addSpecialTokens ?? true)) ids.push(1);
      // Special tokens written as text become their ids, as a real tokenizer's added tokens do.
      for (const part of text.split(/(<pad>|<s>|<\/s>)/)) {
        const sp = specials.indexOf(part);
        if (sp >= 0) ids.push(sp);
        else for (const b of enc.encode(part)) ids.push(b + 3);
      }
      return ids;
    },
    decode: (ids) => ids.map((id) => (id < 3 ? specials[id] : dec.decode(Uint8Array.of(id - 3)))).join(""),
    tokenToId: (token) => (specials.includes(token) ? specials.indexOf(token) : undefined),
    idToToken: (id) => (id < 3 ? specials[id] : String.fromCharCode(id - 3)),
    chatTemplate: null,
  };
}
