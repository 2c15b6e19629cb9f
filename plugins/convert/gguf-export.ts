// `lft export MODEL_DIR --gguf OUT.gguf [--type f32|f16|q8_0]`: a Hugging Face model folder as one GGUF
// file llama.cpp loads. Tensors are read, edited and encoded one at a time while the file is written.
// Norms and other 1-D tensors stay f32; q8_0 falls back to f16 for rows not a multiple of 32 (as the converter).
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { openCheckpoint, readJsonObject } from "../../core/index.ts";
import { GGUF_ARCHITECTURES, ggufTensorName } from "./gguf-arch.ts";
import { GgmlType, type GgufTensor, type GgufValue, str, u32, writeGguf } from "./gguf-file.ts";
import { encodedByteLength, encodeTensor, Q8_0_BLOCK } from "./gguf-quant.ts";
import { ggufVocab } from "./gguf-vocab.ts";

export const GGUF_TYPES = ["f32", "f16", "q8_0"] as const;
export type GgufFileType = (typeof GGUF_TYPES)[number];

/** general.file_type (llama_ftype): ALL_F32, MOSTLY_F16, MOSTLY_Q8_0. */
const FILE_TYPE: Record<GgufFileType, number> = { f32: 0, f16: 1, q8_0: 7 };

export interface GgufExport {
  path: string;
  architecture: string;
  tensors: number;
  bytes: number;
}

/** The stored tensor as f32 (F32, BF16 and F16 checkpoints). */
function asF32(bytes: Uint8Array, dtype: string, name: string): Result<Float32Array, Error> {
  const copy = bytes.slice();
  if (dtype === "F32") return ok(new Float32Array(copy.buffer, 0, copy.length / 4));
  if (dtype === "F16") return ok(Float32Array.from(new Float16Array(copy.buffer, 0, copy.length / 2)));
  if (dtype === "BF16") {
    const half = new Uint16Array(copy.buffer, 0, copy.length / 2);
    const bits = new Uint32Array(half.length);
    for (let i = 0; i < half.length; i++) bits[i] = half[i]! << 16;
    return ok(new Float32Array(bits.buffer));
  }
  return err(new Error(`${name}: stored as ${dtype}; a GGUF export reads F32, BF16 or F16 weights`));
}

/** The ggml type a tensor is written as (prepare_tensors in convert_hf_to_gguf.py). */
function tensorType(ggufName: string, shape: readonly number[], type: GgufFileType): GgmlType {
  if (shape.length <= 1 || ggufName.endsWith("_norm.weight") || type === "f32") return GgmlType.F32;
  if (type === "q8_0" && shape[shape.length - 1]! % Q8_0_BLOCK === 0) return GgmlType.Q8_0;
  return GgmlType.F16;
}

/** A model folder read for export: metadata built once, tensors read as each file is written. */
export interface GgufSource {
  readonly architecture: string;
  /** Writes one GGUF file of the given type. */
  write(outPath: string, type: GgufFileType): Result<GgufExport, Error>;
  close(): void;
}

export function openGgufSource(modelDir: string): Result<GgufSource, Error> {
  const config = readJsonObject(join(modelDir, "config.json"), "model config");
  if (config.isErr()) return err(config.error);
  const cfg = config.value;
  const modelType = String(cfg.model_type);
  const arch = GGUF_ARCHITECTURES[modelType];
  if (!arch) return err(new Error(`config.json: model_type "${modelType}" has no GGUF export (exported: ${Object.keys(GGUF_ARCHITECTURES).join(", ")})`));
  const tokenizer = readJsonObject(join(modelDir, "tokenizer.json"), "tokenizer");
  if (tokenizer.isErr()) return err(tokenizer.error);
  const tokenizerConfig = readJsonObject(join(modelDir, "tokenizer_config.json"), "tokenizer config");
  const nVocab = typeof cfg.vocab_size === "number" ? cfg.vocab_size : 0;
  const vocab = ggufVocab(tokenizer.value, tokenizerConfig.isOk() ? tokenizerConfig.value : {}, cfg, nVocab);
  if (vocab.isErr()) return err(vocab.error);
  const hparams = arch.hyperparameters(cfg);
  if (hparams.isErr()) return err(hparams.error);
  const ckpt = openCheckpoint(modelDir);
  if (ckpt.isErr()) return err(ckpt.error);
  const checkpoint = ckpt.value;
  const tied = cfg.tie_word_embeddings === true;
  const name = String(cfg._name_or_path ?? modelDir.split("/").filter(Boolean).pop() ?? "model");

  const write = (outPath: string, type: GgufFileType): Result<GgufExport, Error> => {
    const metadata = new Map<string, GgufValue>([
      ["general.architecture", str(arch.name)],
      ["general.type", str("model")],
      ["general.name", str(name)],
      ...hparams.value,
      ["general.file_type", u32(FILE_TYPE[type])],
      ["general.quantization_version", u32(2)],
      ...vocab.value,
    ]);
    const tensors: GgufTensor[] = [];
    for (const hfName of checkpoint.names()) {
      if (arch.drop?.(hfName, cfg) || (tied && hfName === "lm_head.weight")) continue;
      const named = ggufTensorName(hfName);
      if (named.isErr()) return err(new Error(`${modelDir}: ${named.error.message} (model_type ${modelType})`));
      if (named.value === null) continue;
      const info = checkpoint.info(hfName);
      if (info.isErr()) return err(info.error);
      const shape = info.value.shape;
      const numel = shape.reduce((a, b) => a * b, 1);
      const ggmlType = tensorType(named.value, shape, type);
      tensors.push({
        name: named.value,
        shape,
        type: ggmlType,
        byteLength: encodedByteLength(ggmlType, numel),
        data: () => {
          const raw = checkpoint.bytes(hfName).andThen((b) => asF32(b, info.value.dtype, hfName));
          if (raw.isErr()) throw raw.error;
          return encodeTensor(ggmlType, arch.edit ? arch.edit(hfName, raw.value, shape, cfg) : raw.value);
        },
      });
    }
    const written = writeGguf(outPath, metadata, tensors);
    if (written.isErr()) return err(written.error);
    return ok({ path: outPath, architecture: arch.name, tensors: tensors.length, bytes: written.value });
  };
  return ok({ architecture: arch.name, write, close: () => checkpoint.close() });
}

/** One model folder -> one GGUF file. */
export function exportGguf(modelDir: string, outPath: string, type: GgufFileType): Result<GgufExport, Error> {
  return openGgufSource(modelDir).andThen((source) => {
    try {
      return source.write(outPath, type);
    } finally {
      source.close();
    }
  });
}
