// Validation of quantised-weight arguments (core/backend/backend.ts's Quant4Arrays, Int8Arrays) before
// native code: every size and index a kernel will touch is checked here, so C never reads out of range.
import { checkedMul, formatShape, numel, ShapeError } from "../tensor/shape.ts";
import type { Int8Arrays, Quant4Arrays } from "./backend.ts";
import { expectArray, expectNumel, type NativeArray } from "./check.ts";

const bytesOf = (t: NativeArray): number => numel(t.shape) * 4;

function positiveInt(op: string, role: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new ShapeError(`${op}: ${role} must be a positive integer, got ${v}`);
}

/** Rows of x (m) for out = x·Wᵀ (inputGrad false) or x·W (true), after checking x and out against W's shape. */
function linearRows(op: string, out: NativeArray, x: NativeArray, rows: number, cols: number, inputGrad: boolean): number {
  expectArray(op, "input", x, "f32");
  expectArray(op, "out", out, "f32");
  const inner = inputGrad ? rows : cols;
  const outer = inputGrad ? cols : rows;
  if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== inner)
    throw new ShapeError(`${op}: input ${formatShape(x.shape)} must end in ${inner} (weight [${rows}, ${cols}]${inputGrad ? ", input gradient" : ""})`);
  const m = numel(x.shape) / inner;
  const want = [...x.shape.slice(0, -1), outer];
  expectArray(op, "out", out, "f32", want);
  return m;
}

/** Checks a 4-bit weight's arrays: packed bytes, code book, scales (plain or double-quantised). */
export function quant4Args(op: string, w: Quant4Arrays): { nBlocks: number } {
  positiveInt(op, "rows", w.rows);
  positiveInt(op, "cols", w.cols);
  positiveInt(op, "block size", w.blockSize);
  if (w.blockSize % 2 !== 0) throw new ShapeError(`${op}: block size must be even (a byte never straddles two blocks), got ${w.blockSize}`);
  const total = checkedMul(w.rows, w.cols, `${op}: weight [${w.rows}, ${w.cols}]`);
  const nBlocks = Math.ceil(total / w.blockSize);
  expectArray(op, "packed weight", w.packed, "i32");
  if (bytesOf(w.packed) < Math.ceil(total / 2))
    throw new ShapeError(`${op}: packed weight holds ${bytesOf(w.packed)} bytes, [${w.rows}, ${w.cols}] at 4 bits needs ${Math.ceil(total / 2)}`);
  expectArray(op, "code book", w.code, "f32");
  expectNumel(op, "code book", w.code, 16);
  if (w.nested === null) {
    expectArray(op, "absmax", w.absmax, "f32");
    expectNumel(op, "absmax", w.absmax, nBlocks);
  } else {
    expectArray(op, "absmax codes", w.absmax, "i32");
    if (bytesOf(w.absmax) < nBlocks) throw new ShapeError(`${op}: absmax codes hold ${bytesOf(w.absmax)} bytes, ${nBlocks} blocks need ${nBlocks}`);
    positiveInt(op, "nested block size", w.nested.blockSize);
    expectArray(op, "nested absmax", w.nested.absmax, "f32");
    expectNumel(op, "nested absmax", w.nested.absmax, Math.ceil(nBlocks / w.nested.blockSize));
    expectArray(op, "nested code", w.nested.code, "f32");
    expectNumel(op, "nested code", w.nested.code, 256);
    if (!Number.isFinite(w.nested.offset)) throw new ShapeError(`${op}: nested offset must be finite, got ${w.nested.offset}`);
  }
  return { nBlocks };
}

export function quant4LinearArgs(out: NativeArray, x: NativeArray, w: Quant4Arrays, inputGrad: boolean): { m: number } {
  quant4Args("quant4Linear", w);
  return { m: linearRows("quant4Linear", out, x, w.rows, w.cols, inputGrad) };
}

export function int8Args(op: string, w: Int8Arrays): void {
  positiveInt(op, "rows", w.rows);
  positiveInt(op, "cols", w.cols);
  checkedMul(w.rows, w.cols, `${op}: weight [${w.rows}, ${w.cols}]`);
  expectArray(op, "int8 weight", w.q, "i32");
  if (bytesOf(w.q) < w.rows * w.cols) throw new ShapeError(`${op}: int8 weight holds ${bytesOf(w.q)} bytes, [${w.rows}, ${w.cols}] needs ${w.rows * w.cols}`);
  expectArray(op, "row scales", w.rowScale, "f32");
  expectNumel(op, "row scales", w.rowScale, w.rows);
}

export function int8LinearArgs(out: NativeArray, x: NativeArray, w: Int8Arrays, inputGrad: boolean): { m: number } {
  int8Args("int8Linear", w);
  return { m: linearRows("int8Linear", out, x, w.rows, w.cols, inputGrad) };
}

/** Rows of x (m) for out = x·Wᵀ with W a 2-D bf16/f16 weight read as stored (Backend.halfLinear). */
export function halfLinearArgs(out: NativeArray, x: NativeArray, w: NativeArray): { m: number; rows: number; cols: number } {
  expectArray("halfLinear", "weight", w, ["bf16", "f16"]);
  if (w.shape.length !== 2) throw new ShapeError(`halfLinear: the weight must be 2-D [out, in], got ${formatShape(w.shape)}`);
  const [rows, cols] = w.shape as [number, number];
  return { m: linearRows("halfLinear", out, x, rows, cols, false), rows, cols };
}

/** out must be f32 [rows, cols] for a dequantisation. */
export function dequantizeOut(op: string, out: NativeArray, rows: number, cols: number): void {
  expectArray(op, "out", out, "f32", [rows, cols]);
}
