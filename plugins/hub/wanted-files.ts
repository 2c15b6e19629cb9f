// Which files of a repo lft fetches. A model needs its config, tokenizer and safetensors weights, not
// the duplicate pytorch_model.bin, onnx/ or gguf copies many repos also carry; a dataset needs its data
// files (below `folder`/`subset` when the entry names one).
import type { RepoType } from "./cache.ts";

const MODEL_FILE = /^[^/]+\.(json|safetensors|model|txt|jinja|tiktoken)$/;
const DATA_FILE = /\.(json|jsonl|parquet|csv|txt)$/i;

export function wantedFile(type: RepoType, path: string, subdir?: string): boolean {
  if (type === "model") return MODEL_FILE.test(path);
  if (subdir !== undefined && !path.startsWith(`${subdir.replace(/\/+$/, "")}/`)) return false;
  return DATA_FILE.test(path);
}
