// Autoregressive generation for a batch of prompts: left padding (pad tokens get segment id 0, so real
// tokens never attend to them, and each row's positions start at 0 at its first real token), a KV cache
// (or full recomputation, the reference the cache is tested against), greedy or sampled tokens, EOS ids,
// stop strings and streaming.
import { err, ok, type Result } from "neverthrow";
import { noGrad } from "../autograd/tape.ts";
import type { GenerationConfig } from "../io/generation-config.ts";
import type { CausalLM } from "../nn/causal-lm.ts";
import { KVCache } from "../nn/kv-cache.ts";
import type { ModelSpec } from "../nn/spec.ts";
import { Philox } from "../random/philox.ts";
import { tensor } from "../tensor/create.ts";
import { tidy } from "../tensor/scope.ts";
import type { Tokenizer } from "../tokenizer/tokenizer.ts";
import { contextLength } from "./context.ts";
import { applyRepetitionPenalty, chooseToken } from "./sampling.ts";

export interface TokenEvent {
  /** Which prompt of the batch. */
  row: number;
  token: number;
  /** 0 for the first generated token. */
  index: number;
  /** New text since the last event of this row (with a tokenizer; held back while a character is incomplete). */
  text?: string;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** Per prompt, a smaller budget than maxNewTokens (a server batching requests that asked for different lengths). */
  maxNewTokensPerRow?: readonly number[];
  /** false (default, as transformers): greedy. */
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  /** Philox seed for sampling; default 0. */
  seed?: number | bigint;
  /** A row ends when it emits one of these (kept as its last token). */
  eosTokenIds?: readonly number[];
  /** A row ends when its text contains one; the text is cut before it. Needs a tokenizer. */
  stopStrings?: readonly string[];
  tokenizer?: Pick<Tokenizer, "decode">;
  /** Fills left padding and the slots of finished rows; default the first EOS id, else 0. */
  padTokenId?: number;
  onToken?: (e: TokenEvent) => void;
  /** Default true. false recomputes the whole sequence every step. */
  useCache?: boolean;
}

export type FinishReason = "eos" | "stop" | "length";

export interface GenerateResult {
  /** Generated ids per prompt (an EOS that ended a row included). */
  tokens: number[][];
  /** Decoded generated text per prompt (EOS left out, cut at a stop string); null without a tokenizer. */
  texts: string[] | null;
  finishReasons: FinishReason[];
}

export class GenerateError extends Error {
  override readonly name = "GenerateError";
}

/** Generation settings from generation_config.json, with EOS ids falling back to config.json's. */
export function generationOptions(gen: GenerationConfig, spec: ModelSpec): Omit<GenerateOptions, "maxNewTokens"> & { maxNewTokens?: number } {
  const eos = gen.eos_token_id === undefined ? spec.eosTokenIds : Array.isArray(gen.eos_token_id) ? gen.eos_token_id : [gen.eos_token_id];
  const pad = gen.pad_token_id !== undefined && gen.pad_token_id >= 0 ? gen.pad_token_id : (spec.padTokenId ?? undefined);
  return {
    doSample: gen.do_sample,
    temperature: gen.temperature,
    topK: gen.top_k,
    topP: gen.top_p,
    repetitionPenalty: gen.repetition_penalty,
    eosTokenIds: eos,
    ...(pad !== undefined ? { padTokenId: pad } : {}),
    ...(gen.max_new_tokens !== undefined ? { maxNewTokens: gen.max_new_tokens } : {}),
  };
}

function validate(model: CausalLM, prompts: readonly (readonly number[])[], o: GenerateOptions): string[] {
  const V = model.spec.vocabSize;
  const context = contextLength(model.spec.rope);
  const problems: string[] = [];
  if (prompts.length === 0) problems.push("no prompts given");
  prompts.forEach((p, i) => {
    if (p.length === 0) problems.push(`prompt ${i} is empty (start it with BOS at least)`);
    const bad = p.find((id) => !Number.isInteger(id) || id < 0 || id >= V);
    if (bad !== undefined) problems.push(`prompt ${i} holds token id ${bad}, outside the vocabulary [0, ${V})`);
    if (p.length >= context) problems.push(`prompt ${i} has ${p.length} tokens, which fills the model's context of ${context} positions: shorten it`);
  });
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) problems.push(`maxNewTokens must be an integer >= 0, got ${o.maxNewTokens}`);
  const perRow = o.maxNewTokensPerRow;
  if (perRow !== undefined && (perRow.length !== prompts.length || perRow.some((n) => !Number.isInteger(n) || n < 1)))
    problems.push(`maxNewTokensPerRow must hold one integer >= 1 per prompt (${prompts.length}), got [${perRow.join(", ")}]`);
  if (o.doSample) {
    if (!(o.temperature === undefined || o.temperature > 0)) problems.push(`temperature must be > 0 when sampling, got ${o.temperature}`);
    if (!(o.topP === undefined || (o.topP > 0 && o.topP <= 1))) problems.push(`topP must be in (0, 1], got ${o.topP}`);
    if (!(o.topK === undefined || (Number.isInteger(o.topK) && o.topK >= 0))) problems.push(`topK must be an integer >= 0, got ${o.topK}`);
  }
  if (!(o.repetitionPenalty === undefined || o.repetitionPenalty > 0)) problems.push(`repetitionPenalty must be > 0, got ${o.repetitionPenalty}`);
  if (o.stopStrings?.length && !o.tokenizer) problems.push("stop strings need a tokenizer to decode the generated text");
  if (o.stopStrings?.some((s) => s.length === 0)) problems.push("a stop string is empty");
  const pad = o.padTokenId;
  if (pad !== undefined && (!Number.isInteger(pad) || pad < 0 || pad >= V)) problems.push(`padTokenId ${pad} is outside the vocabulary [0, ${V})`);
  return problems;
}

/** Index where the first stop string starts in text, or -1. */
function stopAt(text: string, stops: readonly string[]): number {
  let at = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/**
 * The part of a running row's text that is safe to stream: without a trailing incomplete character
 * (a byte-fallback token awaiting the rest) and without a tail that could still become a stop string.
 */
function streamable(text: string, stops: readonly string[]): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === "\uFFFD") end--;
  let keep = end;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, end); k > 0; k--) {
      if (text.slice(end - k, end) === s.slice(0, k)) {
        keep = Math.min(keep, end - k);
        break;
      }
    }
  }
  return text.slice(0, keep);
}

export function generate(model: CausalLM, prompts: readonly (readonly number[])[], o: GenerateOptions): Result<GenerateResult, GenerateError> {
  return generateSteps(model, prompts, o).map((steps) => {
    for (;;) {
      const next = steps.next();
      if (next.done) return next.value;
    }
  });
}

/**
 * Generation one step at a time: the generator yields the step just done (every row has one more
 * token, or has finished) and returns the result. A server awaits between steps so other requests,
 * streamed chunks and disconnects are handled; `return()` stops early and frees the KV cache.
 */
export function generateSteps(
  model: CausalLM,
  prompts: readonly (readonly number[])[],
  o: GenerateOptions,
): Result<Generator<number, GenerateResult, void>, GenerateError> {
  const problems = validate(model, prompts, o);
  if (problems.length) return err(new GenerateError(`generate: ${problems.join("; ")}`));
  return ok(steps(model, prompts, o));
}

function* steps(model: CausalLM, prompts: readonly (readonly number[])[], o: GenerateOptions): Generator<number, GenerateResult, void> {
  const B = prompts.length;
  const eos = new Set(o.eosTokenIds ?? []);
  const pad = o.padTokenId ?? o.eosTokenIds?.[0] ?? 0;
  const sampling = { doSample: o.doSample ?? false, temperature: o.temperature ?? 1, topK: o.topK ?? 0, topP: o.topP ?? 1 };
  const penalty = o.repetitionPenalty ?? 1;
  const stops = o.stopStrings ?? [];
  // No clean-up of tokenization spaces: streamed text must only grow, and LLaMA-Factory saves its
  // predictions with clean_up_tokenization_spaces=False.
  const decode = o.tokenizer ? (ids: number[]) => o.tokenizer!.decode(ids, { skipSpecialTokens: false, cleanUpTokenizationSpaces: false }) : null;
  const rng = new Philox(BigInt(o.seed ?? 0));

  // Left-pad to a rectangle; padded rows get segment ids (0 = pad, 1 = real) and shifted positions.
  const maxLen = Math.max(...prompts.map((p) => p.length));
  const padOf = prompts.map((p) => maxLen - p.length);
  const padded = padOf.some((n) => n > 0);
  const seqIds = prompts.map((p, b) => [...new Array<number>(padOf[b]!).fill(pad), ...p]);
  const seqPos = padOf.map((n) => Array.from({ length: maxLen }, (_, t) => Math.max(0, t - n)));
  const seqSeg = padOf.map((n) => Array.from({ length: maxLen }, (_, t) => (t < n ? 0 : 1)));

  // Each row stops at the model's context (prompt + generated tokens), whatever maxNewTokens asks.
  const context = contextLength(model.spec.rope);
  const budget = prompts.map((p, b) => Math.min(o.maxNewTokensPerRow?.[b] ?? o.maxNewTokens, o.maxNewTokens, context - p.length));
  const tokens: number[][] = prompts.map(() => []);
  const reasons: (FinishReason | null)[] = prompts.map(() => null);
  const texts = prompts.map(() => "");
  const streamed = prompts.map(() => 0);
  const cache = o.useCache === false ? null : new KVCache(model.spec.numLayers);
  try {
    for (let step = 0; step < o.maxNewTokens && reasons.some((r) => r === null); step++) {
      // With a cache, the first step feeds the prompts and later steps one token per row.
      const from = cache && step > 0 ? seqIds[0]!.length - 1 : 0;
      const T = seqIds[0]!.length - from;
      const rows = (xs: number[][]) => xs.flatMap((x) => x.slice(from));
      const logits = noGrad(() =>
        tidy(() => {
          const ids = tensor(rows(seqIds), [B, T], { dtype: "i32" });
          const positionIds = tensor(rows(seqPos), [B, T], { dtype: "i32" });
          const segmentIds = padded ? tensor(rows(seqSeg), [B, T], { dtype: "i32" }) : null;
          return model.forward(ids, { positionIds, segmentIds, cache, lastOnly: true }).toArray() as Float32Array;
        }),
      );
      const V = model.spec.vocabSize;
      for (let b = 0; b < B; b++) {
        let next = pad;
        if (reasons[b] === null) {
          const row = logits.slice(b * V, (b + 1) * V);
          applyRepetitionPenalty(row, [...prompts[b]!, ...tokens[b]!], penalty);
          next = chooseToken(row, sampling, rng);
          tokens[b]!.push(next);
          if (eos.has(next)) reasons[b] = "eos";
          else if (tokens[b]!.length >= budget[b]!) reasons[b] = "length";
          let delta: string | undefined;
          if (decode) {
            const text = decode(tokens[b]!.filter((t) => !eos.has(t)));
            const cut = stopAt(text, stops);
            texts[b] = cut >= 0 ? text.slice(0, cut) : text;
            if (cut >= 0) reasons[b] = "stop";
            const safe = reasons[b] !== null ? texts[b]! : streamable(texts[b]!, stops);
            delta = safe.length > streamed[b]! ? safe.slice(streamed[b]) : "";
            streamed[b] = Math.max(streamed[b]!, safe.length);
          }
          o.onToken?.({ row: b, token: next, index: tokens[b]!.length - 1, ...(delta !== undefined ? { text: delta } : {}) });
        }
        const last = seqPos[b]![seqPos[b]!.length - 1]!;
        seqIds[b]!.push(next);
        seqPos[b]!.push(last + 1);
        seqSeg[b]!.push(1);
      }
      yield step;
    }
  } finally {
    cache?.dispose();
  }
  return { tokens, texts: decode ? texts : null, finishReasons: reasons.map((r) => r ?? "length") };
}
