// Public surface of core/peft: the method contract, LoRA layers and their application, PEFT's adapter
// format, and the small SVD behind PiSSA.
export { MethodError, methodEntry, countElements, type AppliedMethod, type ApplyContext, type LoadContext, type MethodPayload, type RandomStream } from "./method.ts";
export { LoraLinear, type LoraInit, type LoraLayerConfig, type LoraInitOptions, type LoraRuntime } from "./lora-linear.ts";
export { LoraMethod, applyLora, loraScale, type LoraSettings, type AdapterTargets } from "./lora.ts";
export { ADAPTER_CONFIG, ADAPTER_WEIGHTS, PEFT_PREFIX, peftKey, adapterConfig, writePeftAdapter } from "./peft-save.ts";
export { loadPeftAdapter, settingsFromPeftConfig } from "./peft-load.ts";
export { type TargetSpec, matchesName, matchesSpec, resolveLinearTargets, resolveModules, hint as didYouMeanDistinct } from "./targets.ts";
export { pissaFactors, type PissaFactors } from "./pissa.ts";
export { svdJacobi, svdTop, truncateSvd, type SVD, type TopSvdOptions } from "./svd.ts";
