// The tokenizer files a Hugging Face model folder carries beside its weights and config, and the copy
// that puts them next to weights written elsewhere (a run's output, a merged export), so the folder
// loads on its own in lft and in transformers.
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

/** Files a base folder may hold besides weights and config that a saved model carries over. */
export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "tokenizer.model",
  "added_tokens.json",
  "vocab.json",
  "merges.txt",
  "chat_template.jinja",
  "chat_template.json",
] as const;

/** Copies the base folder's tokenizer files into `outDir` (created if needed); returns the files written. */
export function copyTokenizerFiles(baseDir: string, outDir: string): string[] {
  if (resolve(baseDir) === resolve(outDir)) return [];
  mkdirSync(outDir, { recursive: true });
  const copied: string[] = [];
  for (const f of TOKENIZER_FILES) {
    if (!existsSync(join(baseDir, f))) continue;
    copyFileSync(join(baseDir, f), join(outDir, f));
    copied.push(join(outDir, f));
  }
  return copied;
}
