// The CUDA quantised matmul (ffi/cuda/src/nf4.cu's lft_q4_decode / lft_i8_decode, tiled in ffi/cuda/backend.ts)
// against the CPU path on the same weights: forward, input gradient and dequantisation. Runs only with a GPU.
import { expect, test } from "bun:test";
import { cpuBackend, type Tensor, tensor } from "../../lft.ts";
import { Int8Weight, Quant4Weight } from "../../plugins/methods/qlora/index.ts";
import { relError } from "../helpers/compare.ts";
import { normals } from "../plugins/methods/qlora/normals.ts";
import { describeGpu, gpu, gpuTensor } from "./gpu.ts";

const describe = describeGpu("quant.gpu.test.ts");

const onCpu = (shape: number[], data: Float32Array): Tensor => tensor(data, shape, { backend: cpuBackend });

describe("quantised matmul on the GPU matches the CPU", () => {
  // 1500 rows of 4000: several 2^22-value tiles.
  const [rows, cols, m] = [1500, 4000, 7];
  const values = normals(rows * cols, 3, 0.02);
  const x = normals(m * cols, 4);
  const g = normals(m * rows, 5);
  for (const kind of ["nf4", "fp4-dq", "int8"] as const) {
    test(kind, () => {
      const make = (backend: typeof cpuBackend) =>
        kind === "int8"
          ? Int8Weight.quantize(values, rows, cols, backend)
          : Quant4Weight.quantize(values, rows, cols, kind === "nf4" ? "nf4" : "fp4", kind !== "nf4", backend);
      const wc = make(cpuBackend);
      const wg = make(gpu!);
      const yc = onCpu([m, rows], new Float32Array(m * rows));
      wc.forward(yc, onCpu([m, cols], x));
      const yg = gpuTensor([m, rows], "f32");
      wg.forward(yg, gpuTensor([m, cols], "f32", x));
      expect(relError(gpu!.download(yg) as Float32Array, yc.toArray() as Float32Array)).toBeLessThan(1e-5);
      const dc = onCpu([m, cols], new Float32Array(m * cols));
      wc.backwardInput(dc, onCpu([m, rows], g));
      const dg = gpuTensor([m, cols], "f32");
      wg.backwardInput(dg, gpuTensor([m, rows], "f32", g));
      expect(relError(gpu!.download(dg) as Float32Array, dc.toArray() as Float32Array)).toBeLessThan(1e-5);
      expect(Array.from(gpu!.download(wg.dequantize()) as Float32Array)).toEqual(Array.from(wc.dequantize().toArray() as Float32Array));
    });
  }
});
