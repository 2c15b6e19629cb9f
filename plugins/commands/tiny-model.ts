// What `lft make-tiny --family F --out DIR` writes: a small random-initialised checkpoint in real HF layout, built
// from the family's tiny preset (its real config keys at tiny sizes) and a real tokenizer. The vocabulary
// stays the tokenizer's own (32,000 ids for a 32k tokenizer): the embedding must cover every id the
// tokenizer emits, and at hidden size 64 that costs 8 MB per matrix: small, but genuinely loadable.
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { type CheckpointError, type ConfigError, type ModelFamily, ModuleError, readJsonObject, saveModel } from "../../core/index.ts";

/** The tokenizer fixtures shipped in the repository (one folder per tokenizer). */
export const TOKENIZER_FIXTURES = resolve(import.meta.dir, "../../test/fixtures/tokenizers");

export interface MakeTinyOptions {
  seed?: number;
  /** Folder holding `<preset.tokenizer>/tokenizer.json`; default TOKENIZER_FIXTURES (`npm:` names ignore it). */
  tokenizerRoot?: string;
  /** Weight storage in model.safetensors; default f32. */
  dtype?: "f32" | "bf16" | "f16";
}

export interface MadeTiny {
  dir: string;
  files: string[];
  parameters: number;
}

/** Where a preset's tokenizer lives: `npm:<package>` is that installed package's `models/` folder. */
export function tokenizerDir(name: string, root = TOKENIZER_FIXTURES): string {
  return name.startsWith("npm:") ? resolve(import.meta.dir, "../../node_modules", name.slice(4), "models") : join(root, name);
}

const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

/** Largest id a tokenizer.json can produce: its model vocabulary and its added tokens. */
function largestTokenId(tok: Record<string, unknown>): number {
  let max = -1;
  const vocab = (tok.model as { vocab?: unknown } | undefined)?.vocab;
  if (vocab && typeof vocab === "object" && !Array.isArray(vocab)) for (const id of Object.values(vocab)) if (typeof id === "number" && id > max) max = id;
  // Unigram vocabularies are [piece, score] lists: ids are positions.
  if (Array.isArray(vocab)) max = Math.max(max, vocab.length - 1);
  for (const t of (tok.added_tokens as { id?: unknown }[] | undefined) ?? []) if (typeof t.id === "number" && t.id > max) max = t.id;
  return max;
}

export function makeTiny(family: ModelFamily, outDir: string, opts: MakeTinyOptions = {}): Result<MadeTiny, ModuleError | ConfigError | CheckpointError> {
  const preset = family.tiny;
  const spec = family.fromConfig(preset.config, `${family.name} tiny preset`);
  if (spec.isErr()) return err(spec.error);
  const tokDir = tokenizerDir(preset.tokenizer, opts.tokenizerRoot);
  const tokJson = readJsonObject(join(tokDir, "tokenizer.json"), "tokenizer");
  if (tokJson.isErr()) return err(tokJson.error);
  const maxId = largestTokenId(tokJson.value);
  if (maxId >= spec.value.vocabSize) {
    return err(
      new ModuleError(
        `${family.name} tiny preset: tokenizer "${preset.tokenizer}" has ids up to ${maxId} but vocab_size is ${spec.value.vocabSize}; the embedding must cover every id`,
      ),
    );
  }
  const model = family.build(spec.value);
  try {
    model.initParameters({ seed: opts.seed ?? 0, std: spec.value.initializerRange });
    const s = spec.value;
    const eos = s.eosTokenIds.length === 1 ? s.eosTokenIds[0] : s.eosTokenIds;
    const generation = {
      ...Object.fromEntries(Object.entries({ bos_token_id: s.bosTokenId, eos_token_id: eos, pad_token_id: s.padTokenId }).filter(([, v]) => v !== null)),
      ...preset.generation,
    };
    const saved = saveModel(model, outDir, { dtype: opts.dtype, generation });
    if (saved.isErr()) return err(saved.error);
    const files = [...saved.value.files];
    mkdirSync(outDir, { recursive: true });
    for (const f of TOKENIZER_FILES) {
      if (!existsSync(join(tokDir, f))) continue;
      copyFileSync(join(tokDir, f), join(outDir, f));
      files.push(join(outDir, f));
    }
    const parameters = model.parameters().reduce((n, t) => n + t.numel, 0);
    return ok({ dir: outDir, files, parameters });
  } catch (e) {
    return err(new ModuleError(`make-tiny ${family.name}: ${(e as Error).message}`));
  } finally {
    model.dispose();
  }
}
