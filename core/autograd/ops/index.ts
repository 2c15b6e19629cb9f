// Every differentiable op, one module per family.
export { matmul, type MatmulFlags } from "./matmul.ts";
export { add, sub, mul, div, scale } from "./elementwise.ts";
export { sum, mean, sumLastDim, meanLastDim } from "./reduce.ts";
export { reshape, permute, transpose, concat, slice } from "./shape.ts";
export { dropout, type DropoutOptions } from "./dropout.ts";
export { cast } from "./cast.ts";
export { silu, geluTanh, swiglu, tanh, softcap } from "./activation.ts";
export { softmax } from "./softmax.ts";
export { rmsNorm, layerNorm, type RmsNormOptions, type LayerNormOptions } from "./norm.ts";
export { rope, ropeInvFreq } from "./rope.ts";
export { causalAttention, type CausalAttentionOptions } from "./attention.ts";
export { crossEntropy, type CrossEntropyOptions, type LossReduction } from "./loss.ts";
export { embedding } from "./embedding.ts";
export { scatterAddRows } from "./scatter.ts";
