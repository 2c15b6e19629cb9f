// llama2.c checkpoint + tokenizer -> a Hugging Face Llama folder (config.json, model.safetensors,
// generation_config.json, tokenizer.json, tokenizer_config.json) that lft and transformers both load.
// Two facts carry the conversion: llama2.c rotates interleaved pairs (x[2i], x[2i+1]) while HF Llama
// rotates halves (x[i], x[i + d/2]), so q/k rows are permuted per head; and llama2.c's tokenizer is a
// sentencepiece BPE whose merges follow the piece scores, which HF expresses as a ranked merge list.
import type { Llama2cCheckpoint, Llama2cConfig, Llama2cPiece } from "./llama2c-format.ts";

export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

export function hfLlamaConfig(c: Llama2cConfig): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: c.dim,
    intermediate_size: c.hiddenDim,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    head_dim: c.dim / c.nHeads,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.seqLen,
    hidden_act: "silu",
    rms_norm_eps: 1e-5,
    rope_theta: 10000.0,
    rope_scaling: null,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: c.sharedClassifier,
    bos_token_id: 1,
    eos_token_id: 2,
    initializer_range: 0.02,
    torch_dtype: "float32",
    use_cache: true,
  };
}

/** Rows of a [heads * hd, in] projection reordered from interleaved pairs to rotate-half layout. */
export function interleavedToHalves(w: Float32Array, heads: number, hd: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (const part of [0, 1]) {
        const src = (h * hd + 2 * i + part) * cols;
        const dst = (h * hd + part * half + i) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

export function hfLlamaWeights(ckpt: Llama2cCheckpoint): NamedWeight[] {
  const c = ckpt.config;
  const w = ckpt.weights;
  const hd = c.dim / c.nHeads;
  const kvDim = hd * c.nKvHeads;
  const out: NamedWeight[] = [{ name: "model.embed_tokens.weight", shape: [c.vocabSize, c.dim], data: w.token_embedding! }];
  const layer = (block: string, l: number, size: number) => w[block]!.subarray(l * size, (l + 1) * size);
  for (let l = 0; l < c.nLayers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [c.dim], data: layer("rms_att", l, c.dim) },
      { name: `${p}.self_attn.q_proj.weight`, shape: [c.dim, c.dim], data: interleavedToHalves(layer("wq", l, c.dim * c.dim), c.nHeads, hd, c.dim) },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kvDim, c.dim], data: interleavedToHalves(layer("wk", l, kvDim * c.dim), c.nKvHeads, hd, c.dim) },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kvDim, c.dim], data: layer("wv", l, kvDim * c.dim) },
      { name: `${p}.self_attn.o_proj.weight`, shape: [c.dim, c.dim], data: layer("wo", l, c.dim * c.dim) },
      { name: `${p}.post_attention_layernorm.weight`, shape: [c.dim], data: layer("rms_ffn", l, c.dim) },
      { name: `${p}.mlp.gate_proj.weight`, shape: [c.hiddenDim, c.dim], data: layer("w1", l, c.hiddenDim * c.dim) },
      { name: `${p}.mlp.down_proj.weight`, shape: [c.dim, c.hiddenDim], data: layer("w2", l, c.dim * c.hiddenDim) },
      { name: `${p}.mlp.up_proj.weight`, shape: [c.hiddenDim, c.dim], data: layer("w3", l, c.hiddenDim * c.dim) },
    );
  }
  out.push({ name: "model.norm.weight", shape: [c.dim], data: w.rms_final! });
  if (!c.sharedClassifier) out.push({ name: "lm_head.weight", shape: [c.vocabSize, c.dim], data: w.wcls! });
  return out;
}

const SPECIALS = ["<unk>", "<s>", "</s>"];

/** llama2.c stores pieces with spaces where sentencepiece has ▁, and BOS/EOS as "\n<s>\n". */
function pieceText(p: Llama2cPiece, id: number): string {
  return id < SPECIALS.length ? SPECIALS[id]! : p.text.replaceAll(" ", "\u2581");
}

/**
 * Ranked merges as sentencepiece's BPE implies them: every split of a piece into two known pieces,
 * ordered by the merged piece's score (best first), ties by the ids of the halves.
 */
export function mergesFromScores(pieces: string[], scores: number[]): string[] {
  const ids = new Map(pieces.map((p, i) => [p, i]));
  const merges: { left: string; right: string; score: number }[] = [];
  pieces.forEach((piece, id) => {
    if (id < SPECIALS.length || /^<0x[0-9A-F]{2}>$/.test(piece)) return;
    const chars = Array.from(piece);
    const local: { left: string; right: string; score: number }[] = [];
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join("");
      const right = chars.slice(k).join("");
      if (ids.has(left) && ids.has(right)) local.push({ left, right, score: scores[id]! });
    }
    local.sort((a, b) => ids.get(a.left)! - ids.get(b.left)! || ids.get(a.right)! - ids.get(b.right)!);
    merges.push(...local);
  });
  // Array.prototype.sort is stable: equal scores keep piece order, as sentencepiece's extractor does.
  merges.sort((a, b) => b.score - a.score);
  return merges.map((m) => `${m.left} ${m.right}`);
}

export function hfTokenizerJson(pieces: Llama2cPiece[]): Record<string, unknown> {
  const texts = pieces.map(pieceText);
  const vocab = Object.fromEntries(texts.map((t, i) => [t, i]));
  const added = SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: "\u2581" },
        { type: "Replace", pattern: { String: " " }, content: "\u2581" },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "<s>", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "<s>", type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "\u2581" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges: mergesFromScores(
        texts,
        pieces.map((p) => p.score),
      ),
    },
  };
}

export function hfTokenizerConfig(seqLen: number): Record<string, unknown> {
  const tok = (content: string) => ({ __type: "AddedToken", content, lstrip: false, normalized: true, rstrip: false, single_word: false });
  return {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: tok("<s>"),
    eos_token: tok("</s>"),
    unk_token: tok("<unk>"),
    pad_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: seqLen,
    tokenizer_class: "LlamaTokenizer",
    legacy: true,
  };
}

export function hfGenerationConfig(): Record<string, unknown> {
  return { bos_token_id: 1, eos_token_id: 2, do_sample: false, max_new_tokens: 256 };
}
