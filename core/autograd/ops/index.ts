// Every differentiable op, one module per family.
export { matmul, type MatmulFlags } from "./matmul.ts";
export { add, sub, mul, div, scale } from "./elementwise.ts";
export { sum, mean, sumLastDim, meanLastDim } from "./reduce.ts";
export { reshape, permute, transpose, concat, slice } from "./shape.ts";
export { dropout, type DropoutOptions } from "./dropout.ts";
export { cast } from "./cast.ts";
