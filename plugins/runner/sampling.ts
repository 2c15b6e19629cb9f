// Generation for chat and predict: the recipe's sampling options (temperature 0 is greedy) over
// prompts rendered by a PromptRenderer, ending at the template's stop tokens and words.
import { ok, type Result } from "neverthrow";
import { type GenerateOptions, type GenerateResult, generate, type ResolvedOptions, type TokenEvent } from "../../core/index.ts";
import { fail, type RunFailure } from "./failure.ts";
import type { PromptRenderer } from "./prompts.ts";
import type { ModelState } from "./state.ts";

export interface Sampling {
  readonly maxNewTokens: number;
  /** Per prompt, at most maxNewTokens: prompts batched from requests that asked for different lengths. */
  readonly maxNewTokensPerRow?: readonly number[];
  /** 0: greedy. */
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
}

export function samplingOf(options: ResolvedOptions, seed: number): Sampling {
  return {
    maxNewTokens: Number(options.max_new_tokens ?? 256),
    temperature: Number(options.temperature ?? 0),
    topP: Number(options.top_p ?? 1),
    seed: typeof options.seed === "number" ? options.seed : seed,
  };
}

export function describeSampling(s: Sampling): string {
  return s.temperature === 0 ? "greedy" : `temperature ${s.temperature}${s.topP < 1 ? `, top_p ${s.topP}` : ""}, seed ${s.seed}`;
}

export function generateFor(
  state: ModelState,
  prompts: readonly (readonly number[])[],
  renderer: Pick<PromptRenderer, "stopIds" | "stopStrings" | "padId">,
  s: Sampling,
  onToken?: (e: TokenEvent) => void,
): Result<GenerateResult, RunFailure> {
  const result = generate(state.model, prompts, generateOptionsFor(state, renderer, s, onToken));
  return result.isErr() ? fail(result.error.message) : ok(result.value);
}

/** The generate() options for a sampling setting: the template's stops plus `extraStops` (a request's own). */
export function generateOptionsFor(
  state: ModelState,
  renderer: Pick<PromptRenderer, "stopIds" | "stopStrings" | "padId">,
  s: Sampling,
  onToken?: (e: TokenEvent) => void,
  extraStops: readonly string[] = [],
): GenerateOptions {
  // Adapters' dropout is a training behaviour; generation always sees the deterministic model.
  if (state.method !== undefined) state.method.applied.training = false;
  return {
    maxNewTokens: s.maxNewTokens,
    ...(s.maxNewTokensPerRow !== undefined && { maxNewTokensPerRow: s.maxNewTokensPerRow }),
    doSample: s.temperature > 0,
    ...(s.temperature > 0 ? { temperature: s.temperature, topP: s.topP } : {}),
    seed: s.seed,
    eosTokenIds: renderer.stopIds,
    stopStrings: [...renderer.stopStrings, ...extraStops],
    padTokenId: renderer.padId,
    tokenizer: state.tokenizer,
    ...(onToken === undefined ? {} : { onToken }),
  };
}
