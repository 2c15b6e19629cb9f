// Public surface of core/nn: modules, the shared decoder, model specs, families, loading and saving.
export { Module, ModuleList, ModuleError, ParamSlot, type ParamInit, type InitOptions } from "./module.ts";
export { Linear, Embedding, linearForward, asF32, type LinearAdapter, type LinearOptions } from "./linear.ts";
export { RMSNorm, type RMSNormOptions } from "./norm.ts";
export { Attention, type AttentionConfig, type AttentionContext } from "./attention.ts";
export { MLP, type MLPConfig, type FeedForward, type GatedActivation } from "./mlp.ts";
export { DecoderLayer, DecoderModel, CausalLM, attentionConfig, denseMlp, type FeedForwardPart, type ForwardOptions, type CausalLMParts } from "./decoder.ts";
export { KVCache } from "./kv-cache.ts";
export { checkpoint } from "./checkpoint.ts";
export { ropeParameters, ropeDependsOnLength, type RopeScaling, type RopeSpec, type RopeParameters } from "./rope.ts";
export { ConfigReader, readDecoderConfig, type HfConfig, type ModelSpec, type ReadDecoderOptions, type SpecOverrides } from "./spec.ts";
export { defineModelFamily, modelFamilyPlugin, modelFamily, familyByName, familyForModelType, type ModelFamily, type TinyPreset } from "./family.ts";
export { loadModel, saveModel, type LoadModelOptions, type LoadedModel, type LoadError, type SaveModelOptions, type SavedModel } from "./load.ts";
