// Public surface of core/nn: building blocks, the causal-LM contract, model specs, families, loading and saving.

export {
  Attention,
  type AttentionConfig,
  type AttentionContext,
  attendHeads,
  type HeadsConfig,
  layerRope,
  type QkNorms,
  type RotaryFrequencies,
  type SelfAttention,
} from "./attention.ts";
export type { AuxiliaryLoss } from "./auxiliary-loss.ts";
export { CausalLM, type DecoderBlock, type ForwardOptions, lastPositions } from "./causal-lm.ts";
export { defineModelFamily, familyByName, familyForModelType, type ModelFamily, modelFamily, modelFamilyPlugin, type TinyPreset } from "./family.ts";
export { KVCache } from "./kv-cache.ts";
export { asF32, Embedding, type FrozenWeight, Linear, type LinearAdapter, type LinearOptions, linearForward } from "./linear.ts";
export {
  type LoadError,
  type LoadedModel,
  type LoadHooks,
  type LoadModelOptions,
  loadModel,
  type SavedModel,
  type SaveModelOptions,
  type StoredFormHook,
  saveModel,
  type TensorTransform,
} from "./load.ts";
export { type FeedForward, type GatedActivation, gatedActivation, MLP, type MLPConfig } from "./mlp.ts";
export { type InitOptions, Module, ModuleError, ModuleList, type ParamInit, ParamSlot } from "./module.ts";
export { RMSNorm, type RMSNormOptions } from "./norm.ts";
export { recompute } from "./recompute.ts";
export { type RopeParameters, type RopeScaling, type RopeSpec, ropeDependsOnLength, ropeParameters } from "./rope.ts";
export { ConfigReader, type HfConfig, type ModelSpec } from "./spec.ts";
