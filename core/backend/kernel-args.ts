// Argument checks of the kernels both backends implement, in one place: each returns the sizes the
// kernel needs, or throws a message saying what was expected. `floats` is the compute dtypes a backend
// accepts (the CPU computes in f32 only; CUDA also in bf16); weights and outputs follow x's dtype,
// statistics (rstd, mean, lse, losses) are always f32. `readIds` copies index tensors to the host.
import type { DType } from "../tensor/dtype.ts";
import { ShapeError } from "../tensor/shape.ts";
import type { AdamWHyper } from "./backend.ts";
import { expectArray, expectFinite, expectIndices, expectInt32, expectNumel, expectRank, type NativeArray, rowsCols } from "./check.ts";
import { seedArgs } from "./shapes.ts";

export type Floats = DType | readonly DType[];
export type ReadIds = (t: NativeArray) => Int32Array;

export interface Rows {
  rows: number;
  cols: number;
}

/** x of a compute dtype; every other tensor has x's dtype and shape. */
export function sameArrays(op: string, floats: Floats, x: NativeArray, ...rest: [string, NativeArray][]): void {
  expectArray(op, "input", x, floats);
  for (const [role, t] of rest) expectArray(op, role, t, x.dtype, x.shape);
}

/** clamp, forward (x -> out) or backward (x, dy -> dx): same dtype and shape; bounds not NaN, lo <= hi. */
export function clampArgs(op: string, floats: Floats, x: NativeArray, lo: number, hi: number, ...rest: [string, NativeArray][]): void {
  sameArrays(op, floats, x, ...rest);
  if (!(lo <= hi)) throw new RangeError(`${op}: bounds must satisfy lo <= hi (infinite for one side), got [${lo}, ${hi}]`);
}

/** tanh with a cap, forward (x -> out) or backward (y, dy -> dx): same dtype and shape; cap finite and > 0. */
export function tanhArgs(op: string, floats: Floats, x: NativeArray, cap: number, ...rest: [string, NativeArray][]): void {
  sameArrays(op, floats, x, ...rest);
  if (!(Number.isFinite(cap) && cap > 0)) throw new RangeError(`${op}: cap must be a finite number > 0, got ${cap}`);
}

/** Row statistics: f32, one per row. */
function stats(op: string, rows: number, ...ts: [string, NativeArray][]): void {
  for (const [role, t] of ts) {
    expectArray(op, role, t, "f32");
    expectNumel(op, role, t, rows);
  }
}

export function rmsNormForwardArgs(floats: Floats, out: NativeArray, rstd: NativeArray, x: NativeArray, w: NativeArray, eps: number): Rows {
  const op = "rmsNorm";
  sameArrays(op, floats, x, ["out", out]);
  const [rows, cols] = rowsCols(x.shape);
  expectArray(op, "weight", w, x.dtype, [cols]);
  stats(op, rows, ["rstd", rstd]);
  expectFinite(op, "eps", eps);
  return { rows, cols };
}

export function rmsNormBackwardArgs(
  floats: Floats,
  dx: NativeArray,
  dw: NativeArray | null,
  dy: NativeArray,
  x: NativeArray,
  w: NativeArray,
  rstd: NativeArray,
): Rows {
  const op = "rmsNorm backward";
  sameArrays(op, floats, x, ["dy", dy], ["dx", dx]);
  const [rows, cols] = rowsCols(x.shape);
  expectArray(op, "weight", w, x.dtype, [cols]);
  if (dw) expectArray(op, "dweight", dw, x.dtype, [cols]);
  stats(op, rows, ["rstd", rstd]);
  return { rows, cols };
}

export function layerNormForwardArgs(
  floats: Floats,
  out: NativeArray,
  mean: NativeArray,
  rstd: NativeArray,
  x: NativeArray,
  w: NativeArray,
  b: NativeArray,
  eps: number,
): Rows {
  const op = "layerNorm";
  sameArrays(op, floats, x, ["out", out]);
  const [rows, cols] = rowsCols(x.shape);
  expectArray(op, "weight", w, x.dtype, [cols]);
  expectArray(op, "bias", b, x.dtype, [cols]);
  stats(op, rows, ["mean", mean], ["rstd", rstd]);
  expectFinite(op, "eps", eps);
  return { rows, cols };
}

export function layerNormBackwardArgs(
  floats: Floats,
  dx: NativeArray,
  dw: NativeArray | null,
  db: NativeArray | null,
  dy: NativeArray,
  x: NativeArray,
  w: NativeArray,
  mean: NativeArray,
  rstd: NativeArray,
): Rows {
  const op = "layerNorm backward";
  sameArrays(op, floats, x, ["dy", dy], ["dx", dx]);
  const [rows, cols] = rowsCols(x.shape);
  expectArray(op, "weight", w, x.dtype, [cols]);
  if (dw) expectArray(op, "dweight", dw, x.dtype, [cols]);
  if (db) expectArray(op, "dbias", db, x.dtype, [cols]);
  stats(op, rows, ["mean", mean], ["rstd", rstd]);
  return { rows, cols };
}

/** x, out [B, T, H, D]; pos [B, T] i32; invFreq [nFreq] f32 rotating 2*nFreq <= D dims. */
export function ropeArgs(
  floats: Floats,
  out: NativeArray,
  x: NativeArray,
  pos: NativeArray,
  invFreq: NativeArray,
): { B: number; T: number; H: number; D: number; nFreq: number } {
  const op = "rope";
  sameArrays(op, floats, x, ["out", out]);
  expectRank(op, "input", x, 4);
  const [B, T, H, D] = x.shape as [number, number, number, number];
  expectArray(op, "position ids", pos, "i32", [B, T]);
  expectArray(op, "inverse frequencies", invFreq, "f32");
  expectRank(op, "inverse frequencies", invFreq, 1);
  const nFreq = invFreq.shape[0]!;
  if (2 * nFreq > D) throw new ShapeError(`${op}: ${nFreq} frequencies rotate ${2 * nFreq} dims, more than the head dim ${D}`);
  return { B, T, H, D, nFreq };
}

export interface Vocab {
  rows: number;
  vocab: number;
}

export function crossEntropyForwardArgs(
  floats: Floats,
  loss: NativeArray,
  lse: NativeArray,
  logits: NativeArray,
  targets: NativeArray,
  ignoreIndex: number,
  readIds: ReadIds,
): Vocab {
  const op = "crossEntropy";
  expectArray(op, "logits", logits, floats);
  expectRank(op, "logits", logits, 2);
  const [rows, vocab] = logits.shape as [number, number];
  expectArray(op, "targets", targets, "i32", [rows]);
  expectArray(op, "loss", loss, "f32", [rows]);
  expectArray(op, "lse", lse, "f32", [rows]);
  expectInt32(op, "ignore index", ignoreIndex);
  expectIndices(op, "targets", readIds(targets), vocab, ignoreIndex);
  return { rows, vocab };
}

export function crossEntropyBackwardArgs(
  floats: Floats,
  dlogits: NativeArray,
  grow: NativeArray,
  logits: NativeArray,
  lse: NativeArray,
  targets: NativeArray,
  ignoreIndex: number,
  readIds: ReadIds,
): Vocab {
  const op = "crossEntropy backward";
  expectArray(op, "logits", logits, floats);
  expectRank(op, "logits", logits, 2);
  const [rows, vocab] = logits.shape as [number, number];
  expectArray(op, "dlogits", dlogits, logits.dtype, logits.shape);
  expectArray(op, "row grads", grow, "f32", [rows]);
  expectArray(op, "lse", lse, "f32", [rows]);
  expectArray(op, "targets", targets, "i32", [rows]);
  expectInt32(op, "ignore index", ignoreIndex);
  expectIndices(op, "targets", readIds(targets), vocab, ignoreIndex);
  return { rows, vocab };
}

/** weight [vocab, dim], ids i32, rows [...ids, dim] of the weight's dtype; ids range-checked. */
export function embeddingArgs(
  op: string,
  floats: Floats,
  weightRole: string,
  w: NativeArray,
  ids: NativeArray,
  rowsRole: string,
  rows: NativeArray,
  readIds: ReadIds,
): { vocab: number; dim: number; ids: Int32Array } {
  expectArray(op, weightRole, w, floats);
  expectRank(op, weightRole, w, 2);
  expectArray(op, "ids", ids, "i32");
  const [vocab, dim] = w.shape as [number, number];
  expectArray(op, rowsRole, rows, w.dtype, [...ids.shape, dim]);
  const host = readIds(ids);
  expectIndices(op, "ids", host, vocab);
  return { vocab, dim, ids: host };
}

export function dropoutArgs(floats: Floats, out: NativeArray, x: NativeArray, p: number, seed: bigint, offset: bigint): void {
  sameArrays("dropout", floats, x, ["out", out]);
  seedArgs("dropout", seed, offset);
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: probability must be in [0, 1), got ${p}`);
}

/** Parameters, gradients and both moments f32 of one shape; a positive step; finite hyperparameters. */
export function adamwArgs(p: NativeArray, g: NativeArray, m: NativeArray, v: NativeArray, h: AdamWHyper): void {
  sameArrays("adamw", "f32", p, ["grad", g], ["exp_avg", m], ["exp_avg_sq", v]);
  if (!Number.isInteger(h.step) || h.step < 1) throw new RangeError(`adamw: step must be a positive integer, got ${h.step}`);
  for (const [k, val] of Object.entries(h)) expectFinite("adamw", k, val);
}
