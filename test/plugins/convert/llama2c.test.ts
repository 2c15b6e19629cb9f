// The llama2.c converter on the real stories260K model: the HF folder it writes computes the same
// logits (float64 reference, HF rotate-half RoPE on the permuted weights) as llama2.c's own layout
// (interleaved RoPE on the original weights), greedy decoding from BOS tells a coherent story, the
// tokenizer.json it writes matches llama2.c's encoder, and broken inputs give located errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { openSafetensors } from "../../../core/index.ts";
import { convertLlama2c } from "../../../plugins/convert/llama2c.ts";
import { parseLlama2cCheckpoint, parseLlama2cTokenizer } from "../../../plugins/convert/llama2c-format.ts";
import { relError } from "../../helpers/compare.ts";
import { argmax, RefLlama } from "../../helpers/llama-ref.ts";

const FIX = join(import.meta.dir, "..", "..", "fixtures", "stories260K");
const CKPT = join(FIX, "stories260K.bin");
const TOK = join(FIX, "tok512.bin");
let out = "";
let work = "";

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "lft-llama2c-"));
  out = join(work, "stories260K");
  const r = convertLlama2c(CKPT, TOK, out);
  if (r.isErr()) throw r.error;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const config = { dim: 64, hidden: 172, layers: 5, heads: 8, kvHeads: 4, vocab: 512, eps: 1e-5, theta: 10000 };

/** llama2.c's weights under HF names, unpermuted (for the interleaved-RoPE reference). */
function originalWeights(): (name: string) => Float32Array {
  const ck = parseLlama2cCheckpoint(new Uint8Array(readFileSync(CKPT)), CKPT)._unsafeUnwrap();
  const w = ck.weights;
  const hd = 8;
  const kv = hd * 4;
  const layer = (b: string, l: number, n: number) => w[b]!.subarray(l * n, (l + 1) * n);
  return (name) => {
    if (name === "model.embed_tokens.weight" || name === "lm_head.weight") return w.token_embedding!;
    if (name === "model.norm.weight") return w.rms_final!;
    const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name)!;
    const l = Number(m[1]);
    const map: Record<string, [string, number]> = {
      "input_layernorm.weight": ["rms_att", 64],
      "self_attn.q_proj.weight": ["wq", 64 * 64],
      "self_attn.k_proj.weight": ["wk", kv * 64],
      "self_attn.v_proj.weight": ["wv", kv * 64],
      "self_attn.o_proj.weight": ["wo", 64 * 64],
      "post_attention_layernorm.weight": ["rms_ffn", 64],
      "mlp.gate_proj.weight": ["w1", 172 * 64],
      "mlp.down_proj.weight": ["w2", 64 * 172],
      "mlp.up_proj.weight": ["w3", 172 * 64],
    };
    const [b, n] = map[m[2]!]!;
    return layer(b, l, n);
  };
}

function convertedWeights(): (name: string) => Float32Array {
  const f = openSafetensors(join(out, "model.safetensors"))._unsafeUnwrap();
  const cache = new Map<string, Float32Array>();
  return (name) => {
    const key = name === "lm_head.weight" ? "model.embed_tokens.weight" : name; // tied
    let v = cache.get(key);
    if (!v) {
      const b = f.bytes(key)._unsafeUnwrap();
      v = new Float32Array(b.slice().buffer);
      cache.set(key, v);
    }
    return v;
  };
}

describe("convert llama2c stories260K", () => {
  test("writes a Llama config with the checkpoint's dimensions and tied embeddings", () => {
    const cfg = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(cfg).toMatchObject({
      model_type: "llama",
      hidden_size: 64,
      intermediate_size: 172,
      num_hidden_layers: 5,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      vocab_size: 512,
      tie_word_embeddings: true,
    });
    const names = openSafetensors(join(out, "model.safetensors"))._unsafeUnwrap().names();
    expect(names.length).toBe(1 + 5 * 9 + 1);
    expect(names).not.toContain("lm_head.weight");
  });

  test("the converted weights with HF RoPE give llama2.c's logits, and greedy decoding tells a story", () => {
    const original = new RefLlama({ ...config, rope: "interleaved" }, originalWeights());
    const converted = new RefLlama({ ...config, rope: "halves" }, convertedWeights());
    const hf = new Tokenizer(
      JSON.parse(readFileSync(join(out, "tokenizer.json"), "utf8")),
      JSON.parse(readFileSync(join(out, "tokenizer_config.json"), "utf8")),
    );
    const ids = [1];
    for (let pos = 0; pos < 40; pos++) {
      const a = original.step(ids[pos]!, pos);
      const b = converted.step(ids[pos]!, pos);
      // Same float64 arithmetic up to the order of two terms per rotation: agreement to ~1e-12.
      expect(relError(b, a)).toBeLessThan(1e-9);
      ids.push(argmax(a));
    }
    const text = hf.decode(ids, { skip_special_tokens: true });
    expect(text.startsWith("Once upon a time")).toBe(true);
    // A real story: several distinct English words, not a loop of one token.
    expect(new Set(text.split(/\s+/)).size).toBeGreaterThan(15);
  });

  test("tokenizer.json encodes as llama2.c does (score-ordered merges, byte fallback)", () => {
    const pieces = parseLlama2cTokenizer(new Uint8Array(readFileSync(TOK)), 512, TOK)._unsafeUnwrap();
    const vocab = new Map(pieces.map((p, i) => [p.text, i]));
    // llama2.c's encode(): dummy prefix, per-codepoint lookup with byte fallback, best-score merges.
    const reference = (text: string): number[] => {
      const ids = [1, vocab.get(" ")!];
      for (const ch of text) {
        const id = vocab.get(ch);
        if (id !== undefined) ids.push(id);
        else for (const byte of new TextEncoder().encode(ch)) ids.push(byte + 3);
      }
      for (;;) {
        let best = Number.NEGATIVE_INFINITY;
        let at = -1;
        let merged = -1;
        for (let i = 1; i + 1 < ids.length; i++) {
          const id = vocab.get(pieces[ids[i]!]!.text + pieces[ids[i + 1]!]!.text);
          if (id !== undefined && pieces[id]!.score > best) [best, at, merged] = [pieces[id]!.score, i, id];
        }
        if (at < 0) return ids;
        ids.splice(at, 2, merged);
      }
    };
    const hf = new Tokenizer(
      JSON.parse(readFileSync(join(out, "tokenizer.json"), "utf8")),
      JSON.parse(readFileSync(join(out, "tokenizer_config.json"), "utf8")),
    );
    for (const text of [
      "Once upon a time, there was a little girl named Lily.",
      'She said: "Wow!" 😀 ok',
      "  two  spaces\nand a newline",
      "Tim's dog, Max, barked.",
    ]) {
      const ids = hf.encode(text).ids;
      expect(ids).toEqual(reference(text));
      expect(hf.decode(ids, { skip_special_tokens: true })).toBe(text);
    }
  });

  test("a truncated checkpoint, a mismatched tokenizer and a missing file are located errors; nothing is written", () => {
    const bytes = readFileSync(CKPT);
    const cut = join(work, "cut.bin");
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const target = join(work, "never");
    const e1 = convertLlama2c(cut, TOK, target);
    expect(e1._unsafeUnwrapErr().message).toContain(`${cut}: 1056440 bytes, but the header`);
    const tokCut = join(work, "tok-cut.bin");
    writeFileSync(tokCut, readFileSync(TOK).subarray(0, 3000));
    expect(convertLlama2c(CKPT, tokCut, target)._unsafeUnwrapErr().message).toMatch(/tok-cut\.bin: (ends after|token \d+ has length)/);
    expect(convertLlama2c(join(work, "nope.bin"), TOK, target)._unsafeUnwrapErr().message).toContain("does not exist");
    expect(() => readFileSync(join(target, "config.json"))).toThrow();
  });
});
