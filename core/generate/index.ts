// Public surface of core/generate: batched generation with a KV cache, and the sampling steps.
export { generate, generationOptions, GenerateError, type GenerateOptions, type GenerateResult, type FinishReason, type TokenEvent } from "./generate.ts";
export { applyRepetitionPenalty, argmax, chooseToken, sampleFrom, tokenProbabilities, type SamplingOptions } from "./sampling.ts";
