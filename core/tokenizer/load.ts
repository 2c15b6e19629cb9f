// loadTokenizer(dir): reads a Hugging Face model folder's tokenizer.json (+ tokenizer_config.json and
// chat_template.jinja where present) into an HfTokenizer. Every problem is an Err naming the file.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { type AddedTokenSpec, AddedVocabulary } from "./added-tokens.ts";
import { BpeModel } from "./bpe.ts";
import { EMPTY_CONFIG, parseTokenizerConfig, type TokenizerConfig } from "./config.ts";
import { buildDecoder } from "./decoder.ts";
import { Encoder } from "./encoder.ts";
import { HfTokenizer } from "./hf-tokenizer.ts";
import { metaspaceCutFor } from "./metaspace-cut.ts";
import { buildNormalizer } from "./normalizer.ts";
import { buildSpecialWrap, type SpecialWrap } from "./post-processor.ts";
import { buildPreTokenizer } from "./pre-tokenizer.ts";

/** A tokenizer file that could not be used; `file` is its path. */
export class TokenizerError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "TokenizerError";
  }
}

interface TokenizerJson {
  model?: {
    type?: string;
    vocab?: unknown;
    merges?: unknown;
    unk_token?: string | null;
    fuse_unk?: boolean;
    byte_fallback?: boolean;
    ignore_merges?: boolean;
    continuing_subword_prefix?: string | null;
    end_of_word_suffix?: string | null;
    dropout?: number | null;
  };
  added_tokens?: unknown;
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  post_processor?: unknown;
  decoder?: unknown;
}

export function loadTokenizer(dir: string): Result<HfTokenizer, TokenizerError> {
  const file = join(dir, "tokenizer.json");
  const json = readJson(file);
  if (json.isErr()) return err(json.error);
  const tj = json.value as TokenizerJson;
  const fail = (message: string) => err(new TokenizerError(file, message));
  if (typeof tj !== "object" || tj === null || Array.isArray(tj)) return fail("expected a JSON object");
  const m = tj.model;
  if (typeof m !== "object" || m === null) return fail('has no "model" section: is this a Hugging Face tokenizer.json?');
  const type = m.type ?? (m.merges !== undefined ? "BPE" : undefined);
  if (type !== "BPE") return fail(`model type ${JSON.stringify(type)} is not supported: lft reads BPE tokenizers (Llama, Mistral, Qwen, Phi, Gemma 1-3 style)`);
  if (m.dropout) return fail(`model.dropout ${m.dropout} is not supported (BPE dropout is a training-time option)`);
  if (typeof m.vocab !== "object" || m.vocab === null || Array.isArray(m.vocab)) return fail("model.vocab must be an object of token → id");
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(m.vocab as Record<string, unknown>)) {
    if (!Number.isInteger(id) || (id as number) < 0) return fail(`model.vocab["${tok}"] is ${JSON.stringify(id)}, not a non-negative integer id`);
    vocab.set(tok, id as number);
  }
  const merges = parseMerges(m.merges, vocab);
  if (typeof merges === "string") return fail(merges);
  const model = BpeModel.create({
    vocab,
    merges,
    unkToken: m.unk_token ?? null,
    fuseUnk: m.fuse_unk ?? false,
    byteFallback: m.byte_fallback ?? false,
    ignoreMerges: m.ignore_merges ?? false,
    continuingSubwordPrefix: m.continuing_subword_prefix ?? "",
    endOfWordSuffix: m.end_of_word_suffix ?? "",
  });
  if (typeof model === "string") return fail(model);

  const normalize = buildNormalizer(tj.normalizer);
  if (typeof normalize === "string") return fail(normalize);
  const preTokenizer = buildPreTokenizer(tj.pre_tokenizer);
  if (typeof preTokenizer === "string") return fail(preTokenizer);
  const decoder = buildDecoder(tj.decoder);
  if (typeof decoder === "string") return fail(decoder);
  let wrap = buildSpecialWrap(tj.post_processor);
  if (typeof wrap === "string") return fail(wrap);
  const addedTokens = parseAddedTokens(tj.added_tokens);
  if (typeof addedTokens === "string") return fail(addedTokens);
  const added = new AddedVocabulary(addedTokens, normalize);

  const config = readConfig(dir);
  if (config.isErr()) return err(config.error);
  const cfg = config.value;
  const cfgFile = join(dir, "tokenizer_config.json");
  const idOf = (name: string | null, key: string): Result<number | null, TokenizerError> => {
    if (name === null) return ok(null);
    const id = added.byContent.get(name)?.id ?? vocab.get(name);
    return id === undefined ? err(new TokenizerError(cfgFile, `${key} "${name}" is not a token of ${file}`)) : ok(id);
  };
  const bos = idOf(cfg.bosToken, "bos_token");
  if (bos.isErr()) return err(bos.error);
  const eos = idOf(cfg.eosToken, "eos_token");
  if (eos.isErr()) return err(eos.error);
  const pad = idOf(cfg.padToken, "pad_token");
  if (pad.isErr()) return err(pad.error);
  if (cfg.addBosToken !== undefined || cfg.addEosToken !== undefined) {
    const over = llamaStyleWrap(cfg, bos.value, eos.value);
    if (typeof over === "string") return err(new TokenizerError(cfgFile, over));
    wrap = over;
  }

  // A continuing-subword prefix or end-of-word suffix marks a symbol by its place in the word, which a cut would move.
  const decorated = (m.continuing_subword_prefix ?? "") !== "" || (m.end_of_word_suffix ?? "") !== "";
  const encoder = new Encoder({
    added,
    normalize,
    preTokenizer,
    model,
    wrap,
    metaspaceCut: byteLevelFree(tj.pre_tokenizer) && !decorated ? metaspaceCutFor(vocab, m.unk_token ?? null) : null,
  });
  return ok(
    new HfTokenizer({
      dir,
      encoder,
      model,
      added,
      decoder,
      bosId: bos.value,
      eosId: eos.value,
      padId: pad.value,
      chatTemplate: cfg.chatTemplate,
      chatTemplates: cfg.chatTemplates,
      cleanUpTokenizationSpaces: cfg.cleanUpTokenizationSpaces,
    }),
  );
}

function readJson(file: string): Result<unknown, TokenizerError> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    return err(new TokenizerError(file, code === "ENOENT" ? "not found" : `cannot be read: ${(e as Error).message}`));
  }
  try {
    return ok(JSON.parse(text));
  } catch (e) {
    return err(new TokenizerError(file, `is not valid JSON: ${(e as Error).message}`));
  }
}

/** tokenizer_config.json (optional), with chat_template.jinja as the template when the config has none. */
function readConfig(dir: string): Result<TokenizerConfig, TokenizerError> {
  const file = join(dir, "tokenizer_config.json");
  let cfg = EMPTY_CONFIG;
  if (existsSync(file)) {
    const json = readJson(file);
    if (json.isErr()) return err(json.error);
    const parsed = parseTokenizerConfig(json.value);
    if (typeof parsed === "string") return err(new TokenizerError(file, parsed));
    cfg = parsed;
  }
  const jinja = join(dir, "chat_template.jinja");
  if (cfg.chatTemplate === null && existsSync(jinja)) {
    const template = readFileSync(jinja, "utf8");
    cfg = { ...cfg, chatTemplate: template, chatTemplates: { ...cfg.chatTemplates, default: template } };
  }
  return ok(cfg);
}

/**
 * Merges as pairs. The string form "a b" is split at its space; a few converted sentencepiece files hold
 * tokens with spaces ("   " is " " + " "), which are read as the one split whose halves are both tokens.
 */
function parseMerges(raw: unknown, vocab: Map<string, number>): Array<readonly [string, string]> | string {
  if (!Array.isArray(raw)) return "model.merges must be a list";
  const out: Array<readonly [string, string]> = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const m = raw[i] as unknown;
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === "string" && typeof m[1] === "string") {
      out[i] = [m[0], m[1]];
      continue;
    }
    if (typeof m !== "string") return `model.merges[${i}] is ${JSON.stringify(m)}: expected "a b" or ["a", "b"]`;
    const sp = m.indexOf(" ");
    if (sp > 0 && sp === m.lastIndexOf(" ") && sp < m.length - 1) {
      out[i] = [m.slice(0, sp), m.slice(sp + 1)];
      continue;
    }
    const splits: Array<readonly [string, string]> = [];
    for (let p = 0; p < m.length; p++) {
      if (m[p] !== " ") continue;
      const a = m.slice(0, p);
      const b = m.slice(p + 1);
      if (a && b && vocab.has(a) && vocab.has(b) && vocab.has(a + b)) splits.push([a, b]);
    }
    if (splits.length !== 1) return `model.merges[${i}] ${JSON.stringify(m)} cannot be split into two tokens unambiguously`;
    out[i] = splits[0]!;
  }
  return out;
}

function parseAddedTokens(raw: unknown): AddedTokenSpec[] | string {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return "added_tokens must be a list";
  const out: AddedTokenSpec[] = [];
  for (const [i, t] of raw.entries()) {
    const a = t as Record<string, unknown>;
    if (!Number.isInteger(a?.id) || typeof a.content !== "string") return `added_tokens[${i}] needs an integer "id" and a string "content"`;
    const special = a.special === true;
    out.push({
      id: a.id as number,
      content: a.content,
      special,
      normalized: typeof a.normalized === "boolean" ? a.normalized : !special,
      lstrip: a.lstrip === true,
      rstrip: a.rstrip === true,
      singleWord: a.single_word === true,
    });
  }
  return out;
}

function llamaStyleWrap(cfg: TokenizerConfig, bos: number | null, eos: number | null): SpecialWrap | string {
  if (cfg.addBosToken && bos === null) return "add_bos_token is true but bos_token is not set";
  if (cfg.addEosToken && eos === null) return "add_eos_token is true but eos_token is not set";
  return { prefix: cfg.addBosToken ? [bos!] : [], suffix: cfg.addEosToken ? [eos!] : [] };
}

/** True when the vocabulary has "▁" and no token holds "▁" after another character (see Encoder). */
/** Whether a pre-tokenizer leaves words in their own characters (no ByteLevel stage maps them), so a cut at "▁" is a cut in the model's alphabet. */
function byteLevelFree(json: unknown): boolean {
  if (json === null || json === undefined) return true;
  const cfg = json as { type?: string; pretokenizers?: unknown[] };
  if (cfg.type === "ByteLevel") return false;
  return (cfg.pretokenizers ?? []).every(byteLevelFree);
}
