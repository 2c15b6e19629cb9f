// Public surface of core/generate: batched generation with a KV cache, and the sampling steps.

export { contextLength, contextLengthOfConfig } from "./context.ts";
export {
  type FinishReason,
  GenerateError,
  type GenerateOptions,
  type GenerateResult,
  generate,
  generateSteps,
  generationOptions,
  type TokenEvent,
} from "./generate.ts";
export { applyRepetitionPenalty, argmax, chooseToken, type SamplingOptions, sampleFrom, tokenProbabilities } from "./sampling.ts";
