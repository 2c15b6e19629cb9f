// Readers for llama2.c's two binary formats: the checkpoint (seven int32 header fields, then float32
// weights in a fixed order) and the tokenizer (pieces with scores). Every size is checked against the
// header before a byte is trusted, so a truncated or foreign file gives a located error.
import { err, ok, type Result } from "neverthrow";

export interface Llama2cConfig {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  /** The classifier shares the token embedding (the header's vocab_size is positive). */
  sharedClassifier: boolean;
}

export interface Llama2cCheckpoint {
  config: Llama2cConfig;
  /** HF-layout names are assigned by the converter; these are llama2.c's own, per layer where stacked. */
  weights: Record<string, Float32Array>;
}

export interface Llama2cPiece {
  text: string;
  score: number;
}

const HEADER_BYTES = 28;

/** Weight blocks in file order, with their element counts. */
function layout(c: Llama2cConfig): [string, number][] {
  const headSize = c.dim / c.nHeads;
  const kvDim = headSize * c.nKvHeads;
  const L = c.nLayers;
  const blocks: [string, number][] = [
    ["token_embedding", c.vocabSize * c.dim],
    ["rms_att", L * c.dim],
    ["wq", L * c.dim * c.dim],
    ["wk", L * kvDim * c.dim],
    ["wv", L * kvDim * c.dim],
    ["wo", L * c.dim * c.dim],
    ["rms_ffn", L * c.dim],
    ["w1", L * c.hiddenDim * c.dim],
    ["w2", L * c.dim * c.hiddenDim],
    ["w3", L * c.hiddenDim * c.dim],
    ["rms_final", c.dim],
    ["freq_cis", c.seqLen * headSize], // real and imaginary halves, unused: HF recomputes RoPE
  ];
  if (!c.sharedClassifier) blocks.push(["wcls", c.vocabSize * c.dim]);
  return blocks;
}

export function parseLlama2cCheckpoint(bytes: Uint8Array, file: string): Result<Llama2cCheckpoint, Error> {
  if (bytes.byteLength < HEADER_BYTES) return err(new Error(`${file}: ${bytes.byteLength} bytes is shorter than llama2.c's 28-byte header`));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = Array.from({ length: 7 }, (_, i) => view.getInt32(i * 4, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = h as [number, number, number, number, number, number, number];
  const config: Llama2cConfig = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocab), seqLen, sharedClassifier: vocab > 0 };
  const bad = Object.entries({ dim, hiddenDim, nLayers, nHeads, nKvHeads, seqLen, vocab_size: Math.abs(vocab) }).filter(([, v]) => !(v > 0 && v < 1 << 24));
  if (bad.length > 0)
    return err(new Error(`${file}: header field ${bad.map(([k, v]) => `${k}=${v}`).join(", ")} is not a plausible size; is this a llama2.c checkpoint?`));
  if (dim % nHeads !== 0 || nHeads % nKvHeads !== 0)
    return err(new Error(`${file}: dim ${dim} must divide into ${nHeads} heads, and heads into ${nKvHeads} kv heads`));
  const blocks = layout(config);
  const floats = blocks.reduce((s, [, n]) => s + n, 0);
  const expected = HEADER_BYTES + floats * 4;
  if (bytes.byteLength !== expected) {
    return err(
      new Error(
        `${file}: ${bytes.byteLength} bytes, but the header (dim ${dim}, hidden ${hiddenDim}, ${nLayers} layers, vocab ${Math.abs(vocab)}, seq ${seqLen}) implies ${expected}: truncated or not llama2.c's format`,
      ),
    );
  }
  // Copy out of the file buffer: offset 28 is 4-byte aligned, but the caller's buffer may be shared.
  const all = new Float32Array(bytes.slice(HEADER_BYTES).buffer);
  const weights: Record<string, Float32Array> = {};
  let off = 0;
  for (const [name, n] of blocks) {
    weights[name] = all.subarray(off, off + n);
    off += n;
  }
  return ok({ config, weights });
}

export function parseLlama2cTokenizer(bytes: Uint8Array, vocabSize: number, file: string): Result<Llama2cPiece[], Error> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) return err(new Error(`${file}: too short for llama2.c's tokenizer header`));
  const maxLen = view.getInt32(0, true);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const pieces: Llama2cPiece[] = [];
  let off = 4;
  for (let i = 0; i < vocabSize; i++) {
    if (off + 8 > bytes.byteLength) return err(new Error(`${file}: ends after ${i} of ${vocabSize} tokens (the checkpoint's vocabulary size)`));
    const score = view.getFloat32(off, true);
    const len = view.getInt32(off + 4, true);
    off += 8;
    if (len < 0 || len > maxLen || off + len > bytes.byteLength)
      return err(new Error(`${file}: token ${i} has length ${len} (max ${maxLen}, ${bytes.byteLength - off} bytes left)`));
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(off, off + len));
    } catch {
      return err(new Error(`${file}: token ${i} is not valid UTF-8`));
    }
    pieces.push({ text, score });
    off += len;
  }
  if (off !== bytes.byteLength)
    return err(new Error(`${file}: ${bytes.byteLength - off} bytes left after ${vocabSize} tokens; the tokenizer does not match the checkpoint's vocabulary`));
  return ok(pieces);
}
