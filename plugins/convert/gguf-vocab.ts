// A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json + config.json) as GGUF's
// tokenizer.ggml.* metadata, the way llama.cpp's converter reads it: "llama" (sentencepiece-style
// BPE with byte fallback: pieces, scores, types) or "gpt2" (byte-level BPE: pieces, types, merges and
// the pre-tokenizer's name). Both pad the vocabulary to config.json's vocab_size with unused pieces.
import { err, ok, type Result } from "neverthrow";
import { bool, type GgufValue, str, u32 } from "./gguf-file.ts";

/** llama.cpp's token types (llama_token_type). */
const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

type Json = Record<string, unknown>;

/** Pre-tokenizer regexes llama.cpp knows, by the name it gives them (its converter finds them by hash). */
const PRE_TOKENIZERS: Record<string, string> = {
  "llama-bpe": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  qwen2: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

interface AddedToken {
  id: number;
  content: string;
  special?: boolean;
}

/** Split regexes of a pre_tokenizer (a Split, or Splits inside a Sequence). */
function splitPatterns(pre: unknown): string[] {
  if (!pre || typeof pre !== "object") return [];
  const p = pre as Json;
  if (p.type === "Sequence") return ((p.pretokenizers as unknown[]) ?? []).flatMap(splitPatterns);
  const regex = (p.pattern as Json | undefined)?.Regex;
  return p.type === "Split" && typeof regex === "string" ? [regex] : [];
}

/** The text of a tokenizer_config special-token entry (a string or an AddedToken object). */
function tokenText(entry: unknown): string | null {
  if (typeof entry === "string") return entry;
  if (entry && typeof entry === "object" && typeof (entry as Json).content === "string") return (entry as Json).content as string;
  return null;
}

/** Special ids: tokenizer_config.json's tokens first, config.json's *_token_id for the rest (SpecialVocab's order). */
function specialIds(tokenizerConfig: Json, config: Json, idOf: (t: string) => number | undefined, nVocab: number): Map<string, number> {
  const ids = new Map<string, number>();
  for (const typ of ["bos", "eos", "unk", "sep", "pad", "cls", "mask"]) {
    const text = tokenText(tokenizerConfig[`${typ}_token`]);
    const fromTokenizer = text === null ? undefined : idOf(text);
    const fromConfig = config[`${typ}_token_id`];
    const id = fromTokenizer ?? (typeof fromConfig === "number" ? fromConfig : undefined);
    if (id !== undefined && id >= 0 && id < nVocab) ids.set(typ, id);
  }
  return ids;
}

/** add_bos/add_eos: the post-processor's template (a leading bos, a trailing eos), overridden by tokenizer_config's flags. */
function addSpecial(tokenizer: Json, tokenizerConfig: Json, pieces: string[], ids: Map<string, number>): Map<string, boolean> {
  const add = new Map<string, boolean>();
  const post = tokenizer.post_processor as Json | null | undefined;
  const processors = post ? ((post.processors as Json[] | undefined) ?? [post]) : [];
  for (const p of processors) {
    if (p.type !== "TemplateProcessing") continue;
    const single = (p.single as Json[] | undefined) ?? [];
    if (single.length < 2) continue;
    const first = (single[0]!.SpecialToken as Json | undefined)?.id;
    const last = (single[single.length - 1]!.SpecialToken as Json | undefined)?.id;
    const bos = ids.get("bos");
    const eos = ids.get("eos");
    if (typeof first === "string") add.set("bos", bos !== undefined && pieces[bos] === first);
    if (typeof last === "string") add.set("eos", eos !== undefined && pieces[eos] === last);
  }
  for (const typ of ["bos", "eos"]) {
    const v = tokenizerConfig[`add_${typ}_token`];
    if (typeof v === "boolean") add.set(typ, v);
  }
  return add;
}

/** Whether the normalizer or pre-tokenizer puts ▁ before the text (sentencepiece's add_dummy_prefix). */
function addsSpacePrefix(tokenizer: Json): boolean {
  const seen = JSON.stringify([tokenizer.normalizer ?? null, tokenizer.pre_tokenizer ?? null]);
  return seen.includes('"Prepend"') || /"prepend_scheme":"(first|always)"/.test(seen) || /"add_prefix_space":true/.test(seen);
}

/**
 * Sentencepiece scores from a ranked merge list: a piece scores minus the rank of the first merge that
 * makes it, so llama.cpp's highest-score-first merging follows Hugging Face's merge order. Pieces no
 * merge makes (single characters, bytes, specials) score below every merged piece.
 */
function scoresFromMerges(pieces: readonly string[], merges: readonly string[]): Float32Array {
  const rank = new Map<string, number>();
  merges.forEach((m, r) => {
    const cut = m.indexOf(" ");
    const piece = m.slice(0, cut) + m.slice(cut + 1);
    if (!rank.has(piece)) rank.set(piece, r);
  });
  const scores = new Float32Array(pieces.length);
  pieces.forEach((p, id) => {
    const r = rank.get(p);
    scores[id] = r === undefined ? -(merges.length + id) : -r;
  });
  return scores;
}

function mergeStrings(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((m) => (typeof m === "string" ? m : (m as string[]).map((part) => part.replaceAll(" ", "\u0120")).join(" ")));
}

/** tokenizer.ggml.* entries for a model folder's tokenizer files; nVocab is config.json's vocab_size. */
export function ggufVocab(tokenizer: Json, tokenizerConfig: Json, config: Json, nVocab: number): Result<Map<string, GgufValue>, Error> {
  const model = tokenizer.model as Json | undefined;
  if (model?.type !== "BPE") return err(new Error(`tokenizer.json: only BPE tokenizers are exported to GGUF, found model type ${JSON.stringify(model?.type)}`));
  const vocab = model.vocab as Record<string, number>;
  const added = (tokenizer.added_tokens as AddedToken[] | undefined) ?? [];
  const pieces: (string | undefined)[] = new Array(nVocab);
  for (const [piece, id] of Object.entries(vocab)) if (id < nVocab) pieces[id] = piece;
  for (const a of added) if (a.id < nVocab) pieces[a.id] = a.content;
  let largest = -1;
  for (const id of [...Object.values(vocab), ...added.map((a) => a.id)]) if (id > largest) largest = id;
  if (largest >= nVocab) return err(new Error(`tokenizer.json has ids up to ${largest} but config.json's vocab_size is ${nVocab}`));
  const filled = Array.from(pieces, (p, id) => p ?? `[PAD${id}]`);
  const ids = new Map(filled.map((p, id) => [p, id]));
  const special = specialIds(tokenizerConfig, config, (t) => ids.get(t), nVocab);
  const addedById = new Map(added.map((a) => [a.id, a]));
  const sentencepiece = model.byte_fallback === true;
  const types = new Int32Array(nVocab);
  for (let id = 0; id < nVocab; id++) {
    const a = addedById.get(id);
    if (pieces[id] === undefined) types[id] = TokenType.UNUSED;
    else if (sentencepiece && /^<0x[0-9A-Fa-f]{2}>$/.test(filled[id]!)) types[id] = TokenType.BYTE;
    else if (sentencepiece && id === special.get("unk")) types[id] = TokenType.UNKNOWN;
    else if (a) types[id] = a.special ? TokenType.CONTROL : TokenType.USER_DEFINED;
    else types[id] = TokenType.NORMAL;
  }
  const merges = mergeStrings(model.merges);
  const meta = new Map<string, GgufValue>();
  if (sentencepiece) {
    meta.set("tokenizer.ggml.model", str("llama"));
    meta.set("tokenizer.ggml.pre", str("default"));
    meta.set("tokenizer.ggml.tokens", { type: "string[]", value: filled });
    const scores = scoresFromMerges(filled, merges);
    for (let id = 0; id < nVocab; id++) if (types[id] === TokenType.UNUSED || types[id] === TokenType.USER_DEFINED) scores[id] = -1000;
    meta.set("tokenizer.ggml.scores", { type: "f32[]", value: scores });
    meta.set("tokenizer.ggml.token_type", { type: "i32[]", value: types });
  } else {
    const patterns = splitPatterns(tokenizer.pre_tokenizer);
    const pre = Object.entries(PRE_TOKENIZERS).find(([, regex]) => patterns.length === 1 && patterns[0] === regex)?.[0];
    if (!pre)
      return err(
        new Error(
          `tokenizer.json: the byte-level pre-tokenizer ${JSON.stringify(patterns)} is not one llama.cpp names here (known: ${Object.keys(PRE_TOKENIZERS).join(", ")})`,
        ),
      );
    meta.set("tokenizer.ggml.model", str("gpt2"));
    meta.set("tokenizer.ggml.pre", str(pre));
    meta.set("tokenizer.ggml.tokens", { type: "string[]", value: filled });
    meta.set("tokenizer.ggml.token_type", { type: "i32[]", value: types });
    meta.set("tokenizer.ggml.merges", { type: "string[]", value: merges });
  }
  const keyOf: Record<string, string> = { bos: "bos", eos: "eos", unk: "unknown", sep: "seperator", pad: "padding", cls: "cls", mask: "mask" };
  for (const [typ, id] of special) meta.set(`tokenizer.ggml.${keyOf[typ]}_token_id`, u32(id));
  for (const [typ, on] of addSpecial(tokenizer, tokenizerConfig, filled, special)) meta.set(`tokenizer.ggml.add_${typ}_token`, bool(on));
  if (sentencepiece) meta.set("tokenizer.ggml.add_space_prefix", bool(addsSpacePrefix(tokenizer)));
  const template = tokenizerConfig.chat_template;
  if (typeof template === "string") meta.set("tokenizer.chat_template", str(template));
  return ok(meta);
}
