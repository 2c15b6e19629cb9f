// `lft convert llama2c CHECKPOINT.bin TOKENIZER.bin --out DIR`: reads both llama2.c files, converts
// them (llama2c-to-hf.ts) and writes a Hugging Face Llama folder. The folder is assembled in a temp
// directory and renamed into place, so a failed conversion never leaves a half-written model.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { writeSafetensors } from "../../core/index.ts";
import { parseLlama2cCheckpoint, parseLlama2cTokenizer } from "./llama2c-format.ts";
import { hfGenerationConfig, hfLlamaConfig, hfLlamaWeights, hfTokenizerConfig, hfTokenizerJson } from "./llama2c-to-hf.ts";

export interface ConvertedModel {
  dir: string;
  files: string[];
  parameters: number;
}

function readBytes(path: string, what: string): Result<Uint8Array, Error> {
  if (!existsSync(path)) return err(new Error(`${what} ${path} does not exist`));
  return ok(new Uint8Array(readFileSync(path)));
}

export function convertLlama2c(checkpointPath: string, tokenizerPath: string, outDir: string): Result<ConvertedModel, Error> {
  const ckptBytes = readBytes(checkpointPath, "checkpoint");
  if (ckptBytes.isErr()) return err(ckptBytes.error);
  const ckpt = parseLlama2cCheckpoint(ckptBytes.value, checkpointPath);
  if (ckpt.isErr()) return err(ckpt.error);
  const tokBytes = readBytes(tokenizerPath, "tokenizer");
  if (tokBytes.isErr()) return err(tokBytes.error);
  const pieces = parseLlama2cTokenizer(tokBytes.value, ckpt.value.config.vocabSize, tokenizerPath);
  if (pieces.isErr()) return err(pieces.error);

  const c = ckpt.value.config;
  const weights = hfLlamaWeights(ckpt.value);
  const tmp = `${outDir.replace(/\/+$/, "")}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const json = (name: string, value: unknown) => writeFileSync(join(tmp, name), `${JSON.stringify(value, null, 2)}\n`);
  json("config.json", hfLlamaConfig(c));
  json("generation_config.json", hfGenerationConfig());
  json("tokenizer.json", hfTokenizerJson(pieces.value));
  json("tokenizer_config.json", hfTokenizerConfig(c.seqLen));
  const written = writeSafetensors(
    join(tmp, "model.safetensors"),
    weights.map((w) => ({ name: w.name, dtype: "F32" as const, shape: w.shape, data: new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength) })),
    { format: "pt", source: "llama2.c" },
  );
  if (written.isErr()) {
    rmSync(tmp, { recursive: true, force: true });
    return err(written.error);
  }
  mkdirSync(dirname(outDir), { recursive: true });
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  return ok({
    dir: outDir,
    files: ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"],
    parameters: weights.reduce((s, w) => s + w.data.length, 0),
  });
}
