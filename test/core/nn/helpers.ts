// Shared setup for the nn, model and generation tests: tiny specs from Llama-style configs, models with
// random (non-trivial) weights, and the bridge to the float64 reference decoder.
import { type CausalLM, type HfConfig, randn } from "../../../core/index.ts";
import { LlamaForCausalLM } from "../../../plugins/models/llama.ts";
import { type LlamaSpec, readLlamaConfig } from "../../../plugins/models/llama-config.ts";
import type { RefConfig, Weights } from "./ref-decoder.ts";

/** A Llama config.json at test sizes: 2 layers, GQA 4/2 heads of 8 dims, vocab 40. */
export const TEST_CONFIG: HfConfig = {
  model_type: "llama",
  vocab_size: 40,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  bos_token_id: 1,
  eos_token_id: 2,
  tie_word_embeddings: false,
};

export function specOf(config: HfConfig = TEST_CONFIG, over: Partial<LlamaSpec> = {}): LlamaSpec {
  return readLlamaConfig(config, "llama", { extend: () => over })._unsafeUnwrap();
}

/** A Llama model of the spec with random weights (see randomize). */
export function randomModel(spec: LlamaSpec, seed = 1, std = 0.3): LlamaForCausalLM {
  return randomize(new LlamaForCausalLM(spec), seed, std);
}

/**
 * Fills a model with N(0, std) matrices and norm weights / biases drawn around their neutral value,
 * so every parameter matters to the output (std 0.3 keeps logits well separated).
 */
export function randomize<M extends CausalLM>(m: M, seed = 1, std = 0.3): M {
  m.namedSlots().forEach(([path, slot], i) => {
    const neutral = slot.init === "ones" ? 1 : 0;
    const s = slot.shape.length >= 2 ? std : 0.2;
    m.setParameter(path, randn(slot.shape, { seed, offset: BigInt(i) << 32n, mean: slot.shape.length >= 2 ? 0 : neutral, std: s }))._unsafeUnwrap();
  });
  return m;
}

/** The model's parameters as float64 arrays by HF name. */
export function weightsOf(model: CausalLM): Weights {
  return new Map(model.namedParameters().map(([n, t]) => [n, Float64Array.from(t.toArray())]));
}

/** theta^(-2i/dim): the unscaled RoPE frequencies, written independently of core/nn/rope.ts. */
export function plainInvFreq(theta: number, dim: number): number[] {
  return Array.from({ length: dim / 2 }, (_, i) => theta ** ((-2 * i) / dim));
}

/** The reference's view of a Llama-style spec; `over` sets what other families add (norm offset, caps, ...). */
export function refConfigOf(
  spec: LlamaSpec,
  invFreq: ArrayLike<number> = plainInvFreq(spec.rope.theta, spec.rope.rotaryDim),
  over: Partial<RefConfig> = {},
): RefConfig {
  return {
    vocab: spec.vocabSize,
    hidden: spec.hiddenSize,
    inter: spec.intermediateSize,
    layers: spec.numLayers,
    heads: spec.numHeads,
    kvHeads: spec.numKvHeads,
    headDim: spec.headDim,
    eps: spec.rmsNormEps,
    normOffset: 0,
    act: spec.hiddenAct,
    invFreq,
    attnScale: spec.attnScale,
    windows: spec.slidingWindows,
    attnSoftcap: 0,
    finalSoftcap: 0,
    embedScale: 1,
    tied: spec.tieWordEmbeddings,
    qkNorm: false,
    sandwich: false,
    qkvBias: spec.qkvBias,
    oBias: spec.oBias,
    ...over,
  };
}

/** Flattens [B][T][V] reference logits. */
export function flat(x: Float64Array[][]): Float64Array {
  return Float64Array.from(x.flatMap((row) => row.flatMap((v) => [...v])));
}
