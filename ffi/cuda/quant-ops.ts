// The CUDA backend's quantised weights: NF4 quantise/dequantise, and the frozen 4-bit (NF4/FP4, optionally
// double-quantised scales) and int8 weights' matmul, forward and input gradient, tile by tile: rows of W are
// decoded into a scratch tile that feeds cuBLAS, so the whole dense weight never exists on the device.
import {
  type Block,
  dequantizeOut,
  expectArray,
  expectNumel,
  type Int8Arrays,
  int8Args,
  int8LinearArgs,
  type NativeArray,
  type Quant4Arrays,
  quant4Args,
  quant4LinearArgs,
} from "../../core/index.ts";
import { BLOCK, blocks, type CudaBackend, F32, FLOATS, I32, n, sfx } from "./backend-parts.ts";
import type { Cublas } from "./cublas.ts";
import type { KernelModule } from "./kernels.ts";

/** What the quantised ops need of the backend being built. */
export interface QuantOpsContext {
  readonly launch: KernelModule["launch"];
  readonly scratch: (bytes: number) => Block;
  readonly done: (...blocks: (Block | null)[]) => void;
  readonly cublas: Cublas;
  readonly tf32: boolean;
}

type QuantOps = Pick<CudaBackend, "nf4Quantize" | "nf4Dequantize" | "quant4Linear" | "quant4Dequantize" | "int8Linear" | "int8Dequantize">;

export function cudaQuantOps({ launch, scratch, done, cublas, tf32 }: QuantOpsContext): QuantOps {
  function nf4Check(op: string, packed: NativeArray, absmax: NativeArray, count: number, blockSize: number): void {
    if (!Number.isInteger(blockSize) || blockSize < 2 || blockSize % 2 !== 0)
      throw new RangeError(`${op}: block size must be a positive even integer, got ${blockSize}`);
    expectArray(op, "packed codes", packed, I32);
    expectNumel(op, "packed codes", packed, Math.ceil(count / 8));
    expectArray(op, "absmax", absmax, F32);
    expectNumel(op, "absmax", absmax, Math.ceil(count / blockSize));
  }

  /**
   * Quantised matmul, tile by tile (never the whole dense weight): decode rows of W into a scratch tile,
   * then cuBLAS. cuBLAS here writes whole rows (ldc = n), so the forward's column block goes through a
   * [m, rows] scratch and copyRows, and the input gradient's dy column block is gathered the same way.
   */
  /** Values decoded per tile of the quantised matmul (16 MiB of f32 scratch). */
  const QUANT_TILE = 1 << 22;

  function quantTiled(
    out: NativeArray,
    x: NativeArray,
    m: number,
    rows: number,
    cols: number,
    inputGrad: boolean,
    decode: (tile: number, e0: number, count: number) => void,
  ): void {
    const tr = Math.max(1, Math.min(rows, Math.floor(QUANT_TILE / cols)));
    const tile = scratch(4 * tr * cols);
    const part = scratch(4 * m * tr);
    const gemm = (g: { m: number; n: number; k: number; transB: boolean }, a: number, b: number, c: number, beta: number) =>
      cublas.gemm({ ...g, transA: false, batch: 1, strideA: 0, strideB: 0, strideC: 0 }, a, b, c, "f32", "f32", 1, beta, tf32);
    const rowCopy = (d: number, dStride: number, src: number, sStride: number, rowBytes: number) =>
      launch("lft_copy_rows_u32", [blocks((m * rowBytes) / 4), 1, 1], [BLOCK, 1, 1], 0, d, dStride / 4, src, sStride / 4, m, rowBytes / 4);
    for (let r0 = 0; r0 < rows; r0 += tr) {
      const rs = Math.min(tr, rows - r0);
      decode(tile.ptr, r0 * cols, rs * cols);
      if (!inputGrad) {
        gemm({ m, n: rs, k: cols, transB: true }, x.ptr, tile.ptr, part.ptr, 0);
        rowCopy(out.ptr + 4 * r0, 4 * rows, part.ptr, 4 * rs, 4 * rs);
      } else {
        rowCopy(part.ptr, 4 * rs, x.ptr + 4 * r0, 4 * rows, 4 * rs);
        gemm({ m, n: cols, k: rs, transB: false }, part.ptr, tile.ptr, out.ptr, r0 === 0 ? 0 : 1);
      }
    }
    done(tile, part);
  }

  function q4Decode(w: Quant4Arrays): (tile: number, e0: number, count: number) => void {
    const nested = w.nested;
    return (tile, e0, count) =>
      launch(
        "lft_q4_decode",
        [blocks(count), 1, 1],
        [BLOCK, 1, 1],
        0,
        tile,
        w.packed.ptr,
        w.code.ptr,
        nested ? 0 : w.absmax.ptr,
        nested ? w.absmax.ptr : 0,
        nested ? nested.absmax.ptr : 0,
        nested ? nested.code.ptr : 0,
        nested ? nested.offset : 0,
        nested ? nested.blockSize : 1,
        w.blockSize,
        e0,
        count,
      );
  }

  function i8Decode(w: Int8Arrays): (tile: number, e0: number, count: number) => void {
    return (tile, e0, count) => launch("lft_i8_decode", [blocks(count), 1, 1], [BLOCK, 1, 1], 0, tile, w.q.ptr, w.rowScale.ptr, w.cols, e0, count);
  }

  return {
    nf4Quantize(packed, absmax, x, blockSize) {
      const op = "nf4Quantize";
      expectArray(op, "input", x, FLOATS);
      nf4Check(op, packed, absmax, n(x), blockSize);
      const nb = Math.ceil(n(x) / blockSize);
      launch(`lft_nf4_quant_${sfx(x)}`, [Math.ceil(nb / 8), 1, 1], [BLOCK, 1, 1], 0, packed.ptr, absmax.ptr, x.ptr, n(x), blockSize);
    },
    nf4Dequantize(out, packed, absmax, blockSize) {
      const op = "nf4Dequantize";
      expectArray(op, "out", out, FLOATS);
      nf4Check(op, packed, absmax, n(out), blockSize);
      launch(`lft_nf4_dequant_${sfx(out)}`, [blocks(n(out)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, packed.ptr, absmax.ptr, n(out), blockSize);
    },

    quant4Linear(out, x, w, inputGrad) {
      const { m } = quant4LinearArgs(out, x, w, inputGrad);
      if (m > 0) quantTiled(out, x, m, w.rows, w.cols, inputGrad, q4Decode(w));
    },
    quant4Dequantize(out, w) {
      quant4Args("quant4Dequantize", w);
      dequantizeOut("quant4Dequantize", out, w.rows, w.cols);
      q4Decode(w)(out.ptr, 0, w.rows * w.cols);
    },
    int8Linear(out, x, w, inputGrad) {
      const { m } = int8LinearArgs(out, x, w, inputGrad);
      if (m > 0) quantTiled(out, x, m, w.rows, w.cols, inputGrad, i8Decode(w));
    },
    int8Dequantize(out, w) {
      int8Args("int8Dequantize", w);
      dequantizeOut("int8Dequantize", out, w.rows, w.cols);
      i8Decode(w)(out.ptr, 0, w.rows * w.cols);
    },
  };
}
