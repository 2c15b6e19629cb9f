// The Backend interface: memory plus the kernel set. The CPU backend (ffi/cpu) and the CUDA backend
// (ffi/cuda) implement all of it; autograd ops call only these, so an op runs on any backend.
// Outputs are passed in preallocated (the op layer owns allocation); every kernel validates its inputs.
import type { CachingAllocator } from "../tensor/allocator.ts";
import type { HostArray } from "../tensor/dtype.ts";
import type { NativeArray } from "./check.ts";

export type BinaryOp = "add" | "sub" | "mul" | "div";

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** beta = 1 accumulates into c. */
  beta?: number;
}

export interface AttentionOptions {
  scale: number;
  /** 0 = no sliding window; otherwise query i sees keys i-window+1..i. */
  window: number;
  /** 0 = off; otherwise logits are soft-capped as softcap * tanh(s / softcap). */
  softcap: number;
}

export interface BlasInfo {
  corename: string;
  config: string;
  threads: number;
  /** Why these kernels were chosen (detected, overridden, or forced for this CPU). */
  reason: string;
}

/**
 * A frozen 4-bit blockwise weight [rows, cols] as the kernels read it (bitsandbytes' layout): element
 * e = row·cols + col is nibble e of `packed` (element 2j in the high nibble of byte j), its value
 * code[nibble] · absmax[e / blockSize]. The format (NF4, FP4) is the code book; which one is the plugin's choice.
 */
export interface Quant4Arrays {
  readonly rows: number;
  readonly cols: number;
  /** Even, > 0 (64 for bitsandbytes' 4-bit). */
  readonly blockSize: number;
  /** i32 words used as raw bytes: at least ceil(rows·cols / 2) bytes. */
  readonly packed: NativeArray;
  /** f32 [16] */
  readonly code: NativeArray;
  /** f32 [nBlocks]; or, double-quantised (nested set), i32 words holding nBlocks u8 codes into nested.code. */
  readonly absmax: NativeArray;
  /** absmax[b] = nested.code[absmaxCode[b]] · nested.absmax[b / nested.blockSize] + nested.offset */
  readonly nested: { readonly absmax: NativeArray; readonly code: NativeArray; readonly offset: number; readonly blockSize: number } | null;
}

/** A frozen LLM.int8-style weight [rows, cols]: value = q[row, col] · rowScale[row] / 127. */
export interface Int8Arrays {
  readonly rows: number;
  readonly cols: number;
  /** i32 words used as raw bytes: at least rows·cols signed bytes. */
  readonly q: NativeArray;
  /** f32 [rows]: each row's absmax. */
  readonly rowScale: NativeArray;
}

/**
 * Matmul against a frozen quantised weight W [rows, cols], never dequantised whole. Optional: a backend
 * without them reports that quantised weights are not supported there.
 *   inputGrad false: out [..., rows] = x [..., cols] · Wᵀ (forward);  true: out [..., cols] = x [..., rows] · W.
 */
export interface QuantizedMatmul {
  quant4Linear?(out: NativeArray, x: NativeArray, w: Quant4Arrays, inputGrad: boolean): void;
  quant4Dequantize?(out: NativeArray, w: Quant4Arrays): void;
  int8Linear?(out: NativeArray, x: NativeArray, w: Int8Arrays, inputGrad: boolean): void;
  int8Dequantize?(out: NativeArray, w: Int8Arrays): void;
  /**
   * out [..., rows] = x [..., cols] · Wᵀ for a frozen bf16/f16 weight W [rows, cols] converted as it is read,
   * never cast whole: the decode path of a half model (few rows). Without it, the weight is cast, then multiplied.
   */
  halfLinear?(out: NativeArray, x: NativeArray, w: NativeArray): void;
}

export interface Backend extends QuantizedMatmul {
  readonly name: string;
  readonly allocator: CachingAllocator;

  // memory and copies
  upload(dst: NativeArray, src: HostArray): void;
  download(src: NativeArray): HostArray;
  fill(dst: NativeArray, value: number): void;
  copy(dst: NativeArray, src: NativeArray): void;
  /** dtype conversion between f32 and bf16/f16/i32 (to f32 only for i32). */
  cast(dst: NativeArray, src: NativeArray): void;
  /** dst rows of `rowBytes` at byte strides: the primitive behind concat and slice. */
  copyRows(
    dst: NativeArray,
    dstOffsetBytes: number,
    dstStrideBytes: number,
    src: NativeArray,
    srcOffsetBytes: number,
    srcStrideBytes: number,
    rows: number,
    rowBytes: number,
  ): void;
  permute(out: NativeArray, x: NativeArray, perm: readonly number[]): void;

  // dense algebra: a [batch.., m, k] (or [k, m] with transA), b [batch.. or none, k, n] (or [n, k])
  matmul(c: NativeArray, a: NativeArray, b: NativeArray, opts?: MatmulOptions): void;
  binaryForward(op: BinaryOp, out: NativeArray, a: NativeArray, b: NativeArray): void;
  binaryBackward(op: BinaryOp, da: NativeArray | null, db: NativeArray | null, g: NativeArray, a: NativeArray, b: NativeArray): void;
  scale(out: NativeArray, x: NativeArray, s: number): void;
  /** y += alpha * x */
  axpy(y: NativeArray, x: NativeArray, alpha: number): void;
  sum(x: NativeArray): number;
  sumSquares(x: NativeArray): number;
  /** How many elements of a float array are NaN or ±Inf (the check after an optimizer step). */
  countNonFinite(x: NativeArray): number;
  sumRows(out: NativeArray, x: NativeArray): void;
  expandRows(out: NativeArray, g: NativeArray, s: number): void;

  // activations
  siluForward(out: NativeArray, x: NativeArray): void;
  siluBackward(dx: NativeArray, dy: NativeArray, x: NativeArray): void;
  geluTanhForward(out: NativeArray, x: NativeArray): void;
  geluTanhBackward(dx: NativeArray, dy: NativeArray, x: NativeArray): void;
  /** out = cap * tanh(x / cap): cap 1 is tanh, else a soft-cap (cap finite and > 0). */
  tanhForward(out: NativeArray, x: NativeArray, cap: number): void;
  /** From the forward's output y: dx = dy * (1 - (y / cap)^2). */
  tanhBackward(dx: NativeArray, dy: NativeArray, y: NativeArray, cap: number): void;
  /** out = min(max(x, lo), hi); lo may be -Infinity and hi +Infinity (one-sided), lo <= hi. */
  clampForward(out: NativeArray, x: NativeArray, lo: number, hi: number): void;
  /** dx = dy where lo <= x <= hi (the value was kept), else 0. */
  clampBackward(dx: NativeArray, dy: NativeArray, x: NativeArray, lo: number, hi: number): void;
  swigluForward(out: NativeArray, gate: NativeArray, up: NativeArray): void;
  swigluBackward(dgate: NativeArray, dup: NativeArray, dy: NativeArray, gate: NativeArray, up: NativeArray): void;
  softmaxForward(out: NativeArray, x: NativeArray): void;
  softmaxBackward(dx: NativeArray, dy: NativeArray, y: NativeArray): void;

  // normalisation and position
  rmsNormForward(out: NativeArray, rstd: NativeArray, x: NativeArray, w: NativeArray, eps: number, wOffset: number): void;
  /** dw (and layerNorm's db) may be null: a frozen norm skips the weight-gradient pass. */
  rmsNormBackward(dx: NativeArray, dw: NativeArray | null, dy: NativeArray, x: NativeArray, w: NativeArray, rstd: NativeArray, wOffset: number): void;
  layerNormForward(out: NativeArray, mean: NativeArray, rstd: NativeArray, x: NativeArray, w: NativeArray, b: NativeArray, eps: number): void;
  layerNormBackward(
    dx: NativeArray,
    dw: NativeArray | null,
    db: NativeArray | null,
    dy: NativeArray,
    x: NativeArray,
    w: NativeArray,
    mean: NativeArray,
    rstd: NativeArray,
  ): void;
  /** x, out [B, T, H, D]; pos [B, T] i32; invFreq [nFreq], 2*nFreq <= D. sign -1 is the backward. */
  rope(out: NativeArray, x: NativeArray, pos: NativeArray, invFreq: NativeArray, sign: 1 | -1): void;

  // attention: q/out [B, Tq, Hq, D], k/v [B, Tk, Hkv, D] (Tq <= Tk: queries are the last Tq positions,
  // as when decoding with a KV cache), lse [B, Hq, Tq], seg [B, Tk] i32 or null; sinks [Hq] f32 or
  // absent (gpt-oss): a per-head logit in every row's softmax denominator with no value; the backward
  // writes its gradient to dsinks [Hq] when both are given.
  attentionForward(
    out: NativeArray,
    lse: NativeArray,
    q: NativeArray,
    k: NativeArray,
    v: NativeArray,
    seg: NativeArray | null,
    opts: AttentionOptions,
    sinks?: NativeArray | null,
  ): void;
  attentionBackward(
    dq: NativeArray,
    dk: NativeArray,
    dv: NativeArray,
    dout: NativeArray,
    out: NativeArray,
    lse: NativeArray,
    q: NativeArray,
    k: NativeArray,
    v: NativeArray,
    seg: NativeArray | null,
    opts: AttentionOptions,
    sinks?: NativeArray | null,
    dsinks?: NativeArray | null,
  ): void;

  // losses and lookups
  crossEntropyForward(loss: NativeArray, lse: NativeArray, logits: NativeArray, targets: NativeArray, ignoreIndex: number): void;
  crossEntropyBackward(dlogits: NativeArray, grow: NativeArray, logits: NativeArray, lse: NativeArray, targets: NativeArray, ignoreIndex: number): void;
  /**
   * Optional: crossEntropyForward then crossEntropyBackward in one pass over each row, for a caller that
   * knows grow before the forward; dlogits may be logits itself. Callers fall back to the two calls.
   */
  crossEntropyFused?(
    loss: NativeArray,
    lse: NativeArray,
    dlogits: NativeArray,
    grow: NativeArray,
    logits: NativeArray,
    targets: NativeArray,
    ignoreIndex: number,
  ): void;
  embeddingForward(out: NativeArray, w: NativeArray, ids: NativeArray): void;
  /** accumulates into dw */
  embeddingBackward(dw: NativeArray, dout: NativeArray, ids: NativeArray): void;

  // randomness (Philox4x32-10; element i uses counter offset + floor(i / 4))
  randUniform(out: NativeArray, seed: bigint, offset: bigint): void;
  randNormal(out: NativeArray, seed: bigint, offset: bigint, mean: number, std: number): void;
  dropout(out: NativeArray, x: NativeArray, p: number, seed: bigint, offset: bigint): void;

  // optimizer
  /** Updates p, m, v in place; returns how many new values of p are NaN or ±Inf, counted while writing them. */
  adamwStep(p: NativeArray, g: NativeArray, m: NativeArray, v: NativeArray, h: AdamWHyper): number;
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count for bias correction. */
  step: number;
}
