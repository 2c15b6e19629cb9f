// `lft export MODEL_DIR --gguf OUT.gguf [--type f32|f16|q8_0]`: a Hugging Face model folder as one GGUF
// file llama.cpp loads. Tensors are read, edited and encoded one at a time while the file is written.
// Norms and other 1-D tensors stay f32; q8_0 falls back to f16 for rows not a multiple of 32 (as the converter).
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { openCheckpoint, readJsonObject } from "../../core/index.ts";
import { GGUF_ARCHITECTURES } from "./gguf-architectures.ts";
import { GgmlType, type GgufTensor, type GgufValue, str, u32, writeGguf } from "./gguf-file.ts";
import { encodedByteLength, encodeTensor, Q8_0_BLOCK } from "./gguf-quant.ts";
import { planTensors } from "./gguf-tensors.ts";
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

/** The ggml type a tensor is written as (prepare_tensors in convert_hf_to_gguf.py). */
function tensorType(ggufName: string, shape: readonly number[], type: GgufFileType): GgmlType {
  if (shape.length <= 1 || ggufName.endsWith("_norm.weight") || type === "f32") return GgmlType.F32;
  // Expert routers stay f32 (llama_model_quantize_internal's rule, mirrored by the converter).
  if (/\.ffn_gate_inp(_shexp)?\.weight$/.test(ggufName)) return GgmlType.F32;
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
  const plan = planTensors(arch, checkpoint, cfg);
  if (plan.isErr()) {
    checkpoint.close();
    return err(new Error(`${modelDir}: ${plan.error.message}`));
  }
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
    const tensors: GgufTensor[] = plan.value.map((t) => {
      const ggmlType = tensorType(t.name, t.shape, type);
      return {
        name: t.name,
        shape: t.shape,
        type: ggmlType,
        byteLength: encodedByteLength(
          ggmlType,
          t.shape.reduce((a, b) => a * b, 1),
        ),
        data: () => {
          const values = t.load();
          if (values.isErr()) throw values.error;
          return encodeTensor(ggmlType, values.value);
        },
      };
    });
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
