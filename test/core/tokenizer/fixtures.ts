// Shared by the tokenizer tests: the fixture folders, each tokenizer loaded once per test file, HF's
// reference ids (test/fixtures/tokenizers/reference, written by its generate.py) and a small id hash.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { HfTokenizer } from "../../../core/tokenizer/hf-tokenizer.ts";
import { loadTokenizer } from "../../../core/tokenizer/load.ts";

export const TOKENIZERS_DIR = join(import.meta.dir, "..", "..", "fixtures", "tokenizers");
export const TEMPLATES_DIR = join(import.meta.dir, "..", "..", "fixtures", "chat-templates");
export const NAMES = ["llama2", "llama3", "mistral-7b", "phi-3-mini", "qwen3"] as const;
export type FixtureName = (typeof NAMES)[number];

const loaded = new Map<string, HfTokenizer>();

export function fixture(name: FixtureName): HfTokenizer {
  let t = loaded.get(name);
  if (!t) {
    const r = loadTokenizer(join(TOKENIZERS_DIR, name));
    if (r.isErr()) throw r.error;
    t = r.value;
    loaded.set(name, t);
  }
  return t;
}

export interface ReferenceCase {
  ids: number[];
  withSpecial: number[];
  decoded: string;
  decodedSkip: string;
}

export interface Reference {
  generator: string;
  vocabSize: number;
  vocabSizeWithAdded: number;
  cases: ReferenceCase[];
  wiki: { count: number; fnv1a: number; sentences: Array<[number, number]> };
}

export function reference(name: FixtureName): Reference {
  return JSON.parse(readFileSync(join(TOKENIZERS_DIR, "reference", `${name}.json`), "utf8")) as Reference;
}

export function referenceTexts(): string[] {
  return (JSON.parse(readFileSync(join(TOKENIZERS_DIR, "reference", "cases.json"), "utf8")) as { cases: string[] }).cases;
}

export function wikiSlice(): string {
  return readFileSync(join(TOKENIZERS_DIR, "reference", "wiki-256k.txt"), "utf8");
}

/** The same sentence split generate.py uses (after ". "). */
export function wikiSentences(text: string): string[] {
  return text.split(/(?<=\. )/);
}

/** FNV-1a over the ids as little-endian uint32 bytes (generate.py's `fnv1a`). */
export function fnv1a(ids: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const id of ids) {
    for (let k = 0; k < 4; k++) {
      h ^= (id >>> (8 * k)) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h;
}
