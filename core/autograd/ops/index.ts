// Every differentiable op, one module per family.

export { clamp, geluTanh, silu, softcap, swiglu, tanh } from "./activation.ts";
export { type AddmmOptions, addmm } from "./addmm.ts";
export { type CausalAttentionOptions, causalAttention } from "./attention.ts";
export { cast } from "./cast.ts";
export { type DropoutOptions, dropout } from "./dropout.ts";
export { add, div, mul, scale, sub } from "./elementwise.ts";
export { embedding } from "./embedding.ts";
export { chunkRows, type LinearCrossEntropyOptions, linearCrossEntropy } from "./linear-cross-entropy.ts";
export { type CrossEntropyOptions, crossEntropy, type LossReduction } from "./loss.ts";
export { type MatmulFlags, matmul } from "./matmul.ts";
export { type LayerNormOptions, layerNorm, type RmsNormOptions, rmsNorm } from "./norm.ts";
export { mean, meanLastDim, sum, sumLastDim } from "./reduce.ts";
export { rope, ropeInvFreq } from "./rope.ts";
export { scatterAddRows } from "./scatter.ts";
export { concat, permute, reshape, slice, transpose } from "./shape.ts";
export { softmax } from "./softmax.ts";
