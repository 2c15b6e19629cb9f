// Public surface of core/nn: building blocks, the causal-LM contract, model specs, families, loading and saving.
export { Module, ModuleList, ModuleError, ParamSlot, type ParamInit, type InitOptions } from "./module.ts";
export { Linear, Embedding, linearForward, asF32, type LinearAdapter, type LinearOptions } from "./linear.ts";
export { RMSNorm, type RMSNormOptions } from "./norm.ts";
export { Attention, attendHeads, type AttentionConfig, type AttentionContext, type HeadsConfig, type QkNorms, type SelfAttention } from "./attention.ts";
export { MLP, gatedActivation, type MLPConfig, type FeedForward, type GatedActivation } from "./mlp.ts";
export { CausalLM, lastPositions, type DecoderBlock, type ForwardOptions } from "./causal-lm.ts";
export { KVCache } from "./kv-cache.ts";
export { recompute } from "./recompute.ts";
export { ropeParameters, ropeDependsOnLength, type RopeScaling, type RopeSpec, type RopeParameters } from "./rope.ts";
export { ConfigReader, type HfConfig, type ModelSpec } from "./spec.ts";
export { defineModelFamily, modelFamilyPlugin, modelFamily, familyByName, familyForModelType, type ModelFamily, type TinyPreset } from "./family.ts";
export { loadModel, saveModel, type LoadModelOptions, type LoadedModel, type LoadError, type SaveModelOptions, type SavedModel } from "./load.ts";
