// Real tokenizers for the data tests, behind lft's Tokenizer interface, built with
// @huggingface/tokenizers from the fixture tokenizer.json files (an independent reference, so these
// tests check the templates, not lft's tokenizer). Loaded once per name per test process.
import { Tokenizer as HfJsTokenizer } from "@huggingface/tokenizers";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Tokenizer } from "../../../../core/tokenizer/tokenizer.ts";

export type FixtureTokenizer = "qwen3" | "llama3" | "llama2" | "mistral-7b" | "phi-3-mini";

export function tokenizerDir(name: FixtureTokenizer): string {
  const local = join(import.meta.dir, "../../../fixtures/tokenizers", name);
  return existsSync(join(local, "tokenizer.json")) ? local : join(import.meta.dir, "../../../../../shared/fixtures/tokenizers", name);
}

const cache = new Map<string, Tokenizer>();

function tokenText(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && typeof (v as { content?: unknown }).content === "string") return (v as { content: string }).content;
  return null;
}

/**
 * The reference tokenizer by default; LFT_DATA_TOKENIZER=lft runs the same tests on lft's own
 * loadTokenizer (they pass on both, which cross-checks the two).
 */
export async function fixtureTokenizer(name: FixtureTokenizer): Promise<Tokenizer> {
  const hit = cache.get(name);
  if (hit) return hit;
  if (process.env["LFT_DATA_TOKENIZER"] === "lft") {
    const { loadTokenizer } = await import("../../../../core/index.ts");
    const own = loadTokenizer(tokenizerDir(name))._unsafeUnwrap();
    cache.set(name, own);
    return own;
  }
  const dir = tokenizerDir(name);
  const json = (await Bun.file(join(dir, "tokenizer.json")).json()) as { added_tokens?: { content: string; special: boolean }[]; model: { vocab: Record<string, number> } };
  const config = (await Bun.file(join(dir, "tokenizer_config.json")).json()) as Record<string, unknown>;
  const tok = new HfJsTokenizer(json, config);
  const idOf = (v: unknown) => {
    const t = tokenText(v);
    return t === null ? null : (tok.token_to_id(t) ?? null);
  };
  const template = config["chat_template"];
  const t: Tokenizer = {
    vocabSize: Object.keys(json.model.vocab).length,
    bosId: idOf(config["bos_token"]),
    eosId: idOf(config["eos_token"]),
    padId: idOf(config["pad_token"]),
    specialTokens: new Set((json.added_tokens ?? []).filter((a) => a.special).map((a) => a.content)),
    encode: (text, opts) => tok.encode(text, { add_special_tokens: opts?.addSpecialTokens ?? true }).ids,
    decode: (ids, opts) => tok.decode([...ids], { skip_special_tokens: opts?.skipSpecialTokens ?? false }),
    tokenToId: (token) => tok.token_to_id(token),
    idToToken: (id) => tok.id_to_token(id),
    chatTemplate: typeof template === "string" ? template : null,
  };
  cache.set(name, t);
  return t;
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
