// Shape rules every backend checks the same way before launching a kernel: matmul operands (with
// transposes and batch dims), attention (GQA heads, queries as the tail of the keys, segment ids) and
// random-stream arguments. Backend-specific limits are added by the backend after these.
import type { DType } from "../tensor/dtype.ts";
import { formatShape, numel, ShapeError } from "../tensor/shape.ts";
import type { AttentionOptions } from "./backend.ts";
import { expectArray, expectDim, expectFinite, expectRank, type NativeArray } from "./check.ts";

export interface MatmulDims {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** Elements between batch items of a and b (0: b is shared). */
  strideA: number;
  strideB: number;
}

/** a [batch.., m, k] (or [k, m] with transA), b 2-D or with a's batch dims, c [batch.., m, n] of `outDtypes`. */
export function matmulDims(
  a: NativeArray,
  b: NativeArray,
  c: NativeArray,
  transA: boolean,
  transB: boolean,
  outDtypes: DType | readonly DType[] = "f32",
): MatmulDims {
  const op = "matmul";
  if (a.shape.length < 2 || b.shape.length < 2) throw new ShapeError(`${op}: operands need rank >= 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [k2, n] = transB ? [bc, br] : [br, bc];
  if (k !== k2)
    throw new ShapeError(
      `${op}: inner dimensions differ: ${formatShape(a.shape)}${transA ? "ᵀ" : ""} @ ${formatShape(b.shape)}${transB ? "ᵀ" : ""} (${k} vs ${k2})`,
    );
  const batchDims = a.shape.slice(0, -2);
  if (b.shape.length > 2) {
    const bb = b.shape.slice(0, -2);
    if (bb.length !== batchDims.length || bb.some((d, i) => d !== batchDims[i])) {
      throw new ShapeError(`${op}: batch dims of b ${formatShape(b.shape)} must equal those of a ${formatShape(a.shape)} (or b must be 2-D)`);
    }
  }
  expectArray(op, "out", c, outDtypes, [...batchDims, m, n]);
  return { batch: numel(batchDims), m, n, k, strideA: ar * ac, strideB: b.shape.length > 2 ? br * bc : 0 };
}

export interface AttentionDims {
  B: number;
  Tq: number;
  Tk: number;
  Hq: number;
  Hkv: number;
  D: number;
}

/** q [B, Tq, Hq, D] of `dtypes`, k/v [B, Tk, Hkv, D] like q, Tq <= Tk, Hq % Hkv == 0, seg [B, Tk] i32. */
export function attentionDims(
  op: string,
  q: NativeArray,
  k: NativeArray,
  v: NativeArray,
  seg: NativeArray | null,
  dtypes: DType | readonly DType[] = "f32",
): AttentionDims {
  expectArray(op, "q", q, dtypes);
  expectRank(op, "q", q, 4);
  expectArray(op, "k", k, q.dtype);
  expectRank(op, "k", k, 4);
  expectArray(op, "v", v, q.dtype, k.shape);
  const [B, Tq, Hq, D] = q.shape as [number, number, number, number];
  const [kB, Tk, Hkv, kD] = k.shape as [number, number, number, number];
  expectDim(op, "k batch", kB, B);
  if (Tk < Tq) throw new ShapeError(`${op}: k sequence length (${Tk}) must be at least q's (${Tq}): queries are the last positions of the key sequence`);
  expectDim(op, "k head dim", kD, D);
  if (Hkv === 0 || Hq % Hkv !== 0) throw new ShapeError(`${op}: query heads (${Hq}) must be a multiple of key/value heads (${Hkv})`);
  if (seg) expectArray(op, "segment ids", seg, "i32", [B, Tk]);
  return { B, Tq, Tk, Hq, Hkv, D };
}

/** Attention sinks (one logit per query head) and their gradient: f32 [Hq] each, when given. */
export function attentionSinks(op: string, Hq: number, sinks: NativeArray | null | undefined, dsinks?: NativeArray | null): void {
  if (sinks) expectArray(op, "sinks", sinks, "f32", [Hq]);
  if (dsinks) {
    if (!sinks) throw new ShapeError(`${op}: a sinks gradient needs the sinks`);
    expectArray(op, "sinks gradient", dsinks, "f32", [Hq]);
  }
}

export function attentionScalars(op: string, o: AttentionOptions): void {
  expectFinite(op, "scale", o.scale);
  if (!Number.isSafeInteger(o.window) || o.window < 0) throw new RangeError(`${op}: window must be a non-negative integer, got ${o.window}`);
  if (!(o.softcap >= 0)) throw new RangeError(`${op}: softcap must be >= 0, got ${o.softcap}`);
}

export function seedArgs(op: string, seed: bigint, offset: bigint): void {
  if (seed < 0n || seed >= 1n << 64n || offset < 0n || offset >= 1n << 64n) throw new RangeError(`${op}: seed and offset must be unsigned 64-bit integers`);
}
