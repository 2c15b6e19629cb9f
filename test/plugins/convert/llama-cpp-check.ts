// Shared by the llama.cpp checks of `lft export --gguf`: builds each case's model folder (a small random
// model of a family from make-tiny, with config overrides), exports it as f32, f16 and q8_0, has llama.cpp
// (node-llama-cpp under Node, llama-cpp-child.mjs) continue the same prompt ids greedily, and lets lft
// score llama.cpp's continuation (teacher forcing). See gguf-llama-cpp.test.ts for the tolerance rule.

/** One case's file checked: llama.cpp's tokens are lft's up to near ties, its top log-probabilities lft's. */
export function expectAgreement(check: LlamaCppCheck, key: string, type: GgufFileType): void {
  const answer = check.answer(key, type);
  expect(answer.tokens).toHaveLength(NEW_TOKENS);
  // The first token comes from the prompt alone: unquantized, it must be lft's own greedy choice.
  if (type !== "q8_0") expect(answer.tokens[0]).toBe(check.lftGreedy.get(key)![0]!);
  const { shortfalls, probabilityGaps } = check.compare(check.model(key), answer);
  expect(Math.max(...shortfalls)).toBeLessThanOrEqual(TOLERANCE[type]);
  if (check.model(key).probabilities !== false && type === "f32") {
    expect(answer.top).toHaveLength(NEW_TOKENS);
    expect(Math.max(...probabilityGaps)).toBeLessThanOrEqual(LOGPROB_TOLERANCE);
  }
}

import { expect } from "bun:test";
import { spawnSync } from "node:child_process";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRegistry, familyByName, generate, loadModel, loadTokenizer, noGrad, type Registry, tensor } from "../../../core/index.ts";
import { makeTiny } from "../../../plugins/commands/index.ts";
import { GGUF_TYPES, type GgufFileType, openGgufSource } from "../../../plugins/convert/index.ts";
import { modelPlugins } from "../../../plugins/models/index.ts";

type Json = Record<string, unknown>;

export const CHILD = join(import.meta.dir, "llama-cpp-child.mjs");
export const NEW_TOKENS = 12;
/**
 * How far below lft's top logit llama.cpp's token may be (logits here spread over several units). Seen
 * on a 2-core machine: at most 0.0013 for f32 and f16 (a Llama near tie, which f16 KV rounding flips)
 * and 0.07 for q8_0.
 */
export const TOLERANCE: Record<GgufFileType, number> = { f32: 0.01, f16: 0.01, q8_0: 0.2 };
/**
 * How far llama.cpp's log-probability of each of its 8 most probable next tokens may be from lft's, at
 * every generated position of an f32 file (asked of f32 files only: llama.cpp's probabilities cost ~50 ms
 * a step for a 32k vocabulary). Seen over all cases: at most 0.008 (and 0.013 for f16, 0.29 for q8_0
 * files); a Gemma 3 file without its local RoPE base reads 0.048, a Qwen2-MoE shared-expert gate 10% off 0.28.
 */
export const LOGPROB_TOLERANCE = 0.03;
export const TEXT = "Once upon a time, there was a little girl named Lily. She liked 3 red balls!";
export const PROMPT = [1, 17, 4242, 999, 12345, 77, 31, 2024, 5, 18000, 640, 9];
/** Families given the 32k Llama 2 tokenizer (their weights and layout are what is checked). */
export const SMALL_VOCAB: Json = { vocab_size: 32000, bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 };
export const hasNode = spawnSync("node", ["--version"]).status === 0;

export interface Case {
  key: string;
  family: string;
  /** config.json entries over the family's tiny preset (init std 0.2 is always set). */
  config?: Json;
  /** Keep the family's own tokenizer (else the Llama 2 one with SMALL_VOCAB); its file is checked on tokens only. */
  ownTokenizer?: boolean;
  /** Also compare llama.cpp's tokenization of TEXT with lft's. */
  text?: boolean;
  /** Also build the model without these config keys, to show they change lft's logits. */
  without?: readonly string[];
  /** make-tiny's seed (default 7). */
  seed?: number;
  /** Export types checked (default all three). */
  types?: readonly GgufFileType[];
}

export interface Model {
  key: string;
  dir: string;
  prompt: number[];
  text: boolean;
  types: readonly GgufFileType[];
  /** Its twin without Case.without's keys, when asked. */
  plainDir?: string;
  /** Whether llama.cpp reports its top probabilities for the f32 file (default true; 4 s for a 151k vocabulary). */
  probabilities?: boolean;
}

interface Job {
  file: string;
  prompt: number[];
  n: number;
  probabilities: boolean;
  text?: string;
}

export interface Answer {
  file: string;
  tokens: number[];
  /** Per generated position: llama.cpp's most probable next tokens, [token, probability], best first. */
  top: [number, number][][];
  textIds: number[] | null;
}

/** Everything a test file needs after its beforeAll. */
export class LlamaCppCheck {
  readonly registry: Registry = createRegistry();
  readonly models: Model[] = [];
  readonly lftGreedy = new Map<string, number[]>();
  readonly lftText = new Map<string, number[]>();
  private readonly answers = new Map<string, Answer>();

  constructor(readonly work: string) {
    for (const p of modelPlugins) this.registry.use(p);
  }

  /** A tiny model of each case written, exported and answered by llama.cpp (one Node child for all). */
  run(cases: readonly Case[], extra: readonly Model[] = []): void {
    this.models.push(...extra);
    for (const c of cases) {
      const family = familyByName(this.registry, c.family)._unsafeUnwrap();
      const dir = join(this.work, c.key);
      const small = c.ownTokenizer ? {} : SMALL_VOCAB;
      const config = { ...family.tiny.config, ...small, initializer_range: 0.2, ...c.config };
      const tiny = { ...family.tiny, ...(c.ownTokenizer ? {} : { tokenizer: "llama2" }), config };
      makeTiny({ ...family, tiny }, dir, { seed: c.seed ?? 7 })._unsafeUnwrap();
      const model: Model = { key: c.key, dir, prompt: PROMPT, text: c.text === true, types: c.types ?? GGUF_TYPES, probabilities: !c.ownTokenizer };
      if (c.without) {
        model.plainDir = `${dir}-plain`;
        cpSync(dir, model.plainDir, { recursive: true });
        const plain: Json = { ...config };
        for (const k of c.without) delete plain[k];
        writeFileSync(join(model.plainDir, "config.json"), JSON.stringify(plain, null, 2));
      }
      this.models.push(model);
    }
    const jobs: Job[] = [];
    for (const m of this.models) {
      const { model } = loadModel(m.dir, this.registry)._unsafeUnwrap();
      this.lftGreedy.set(m.key, generate(model, [m.prompt], { maxNewTokens: NEW_TOKENS })._unsafeUnwrap().tokens[0]!);
      model.dispose();
      if (m.text) this.lftText.set(m.key, loadTokenizer(m.dir)._unsafeUnwrap().encode(TEXT, { addSpecialTokens: false }));
      const source = openGgufSource(m.dir)._unsafeUnwrap();
      for (const type of m.types) {
        const file = this.file(m.key, type);
        source.write(file, type)._unsafeUnwrap();
        jobs.push({
          file,
          prompt: m.prompt,
          n: NEW_TOKENS,
          probabilities: m.probabilities !== false && type === "f32",
          ...(m.text && type === "f32" ? { text: TEXT } : {}),
        });
      }
      source.close();
    }
    const run = spawnSync("node", [CHILD], { input: JSON.stringify(jobs), encoding: "utf8", maxBuffer: 1 << 24, timeout: 90_000 });
    if (run.status !== 0) throw new Error(`llama.cpp child failed (${run.status}): ${run.stderr}`);
    for (const a of JSON.parse(run.stdout) as Answer[]) this.answers.set(a.file, a);
  }

  file(key: string, type: GgufFileType): string {
    return join(this.work, `${key}-${type}.gguf`);
  }

  answer(key: string, type: GgufFileType): Answer {
    return this.answers.get(this.file(key, type))!;
  }

  model(key: string): Model {
    return this.models.find((x) => x.key === key)!;
  }

  /** lft's logits [positions, vocab] for ids, from a model folder. */
  logits(dir: string, ids: readonly number[]): { all: Float32Array; vocab: number } {
    const { model, spec } = loadModel(dir, this.registry)._unsafeUnwrap();
    try {
      const out = noGrad(() => model.forward(tensor([...ids], [1, ids.length], { dtype: "i32" })));
      const all = out.toArray() as Float32Array;
      out.dispose();
      return { all, vocab: spec.vocabSize };
    } finally {
      model.dispose();
    }
  }

  /**
   * lft scoring llama.cpp's sequence (teacher forcing): per generated position, how far llama.cpp's
   * token's logit is below lft's best, and the largest |log p_llama.cpp - log p_lft| over llama.cpp's
   * top tokens there (each side's log-softmax).
   */
  compare(m: Model, a: Answer): { shortfalls: number[]; probabilityGaps: number[] } {
    const { all, vocab: V } = this.logits(m.dir, [...m.prompt, ...a.tokens]);
    const shortfalls: number[] = [];
    const probabilityGaps: number[] = [];
    a.tokens.forEach((tok, k) => {
      const row = all.subarray((m.prompt.length - 1 + k) * V, (m.prompt.length + k) * V);
      let best = -Infinity;
      for (const v of row) best = Math.max(best, v);
      shortfalls.push(best - row[tok]!);
      let sum = 0;
      for (const v of row) sum += Math.exp(v - best);
      const gaps = (a.top[k] ?? []).map(([t, p]) => Math.abs(Math.log(p) - (row[t]! - best - Math.log(sum))));
      probabilityGaps.push(Math.max(0, ...gaps));
    });
    return { shortfalls, probabilityGaps };
  }
}
