// The CPU Backend on liblft_cpu.so's symbols (native.ts). Each method validates liveness, dtype and
// shape (core/backend/check.ts) before it calls C, so the C side never sees an invalid pointer or size.
import { type Pointer, toArrayBuffer } from "bun:ffi";
import { totalmem } from "node:os";
import {
  type AdamWHyper,
  adamwArgs,
  attentionDims,
  attentionScalars,
  attentionSinks,
  type Backend,
  type BinaryOp,
  CachingAllocator,
  clampArgs,
  crossEntropyBackwardArgs,
  crossEntropyForwardArgs,
  DTYPE_BYTES,
  dequantizeOut,
  dropoutArgs,
  embeddingArgs,
  expectArray,
  expectCount,
  expectFinite,
  expectInt32,
  expectNumel,
  formatShape,
  type HostArray,
  halfLinearArgs,
  hostArrayFor,
  int8Args,
  int8LinearArgs,
  layerNormBackwardArgs,
  layerNormForwardArgs,
  type MatmulOptions,
  matmulDims,
  type NativeArray,
  numel,
  type Quant4Arrays,
  quant4Args,
  quant4LinearArgs,
  rmsNormBackwardArgs,
  rmsNormForwardArgs,
  ropeArgs,
  rowsCols,
  ShapeError,
  sameArrays,
  seedArgs,
  tanhArgs,
} from "../../core/index.ts";
import { native } from "./native.ts";

export { blasInfo, cpuSvd, LIB_DIR, LIB_PATH, native } from "./native.ts";

/** The status codes of lft_cpu.h's allocating kernels, as errors a user can act on. */
function checkStatus(op: string, status: number, sizes: string): void {
  if (status === 0) return;
  if (status === -1) throw new Error(`${op}: out of host memory for the kernel's work buffers (${sizes}); free memory or use smaller sizes`);
  if (status === -2) throw new RangeError(`${op}: sizes ${sizes} overflow the kernel's 64-bit index arithmetic`);
  throw new Error(`${op}: the native kernel failed with status ${status} (${sizes})`);
}

/**
 * The CPU's byte budget: physical RAM as the OS reports it (os.totalmem(); swap is not counted). One
 * tensor, or live tensors together, past it would only page the machine to a halt or be killed by the OS.
 */
export const CPU_MEMORY_LIMIT = totalmem();

const F32 = "f32" as const;
const _I32 = "i32" as const;
const OPS: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3 };

/** A tensor's address as bun:ffi's pointer type (plus a byte offset). */
function at(t: NativeArray, byteOffset = 0): Pointer {
  return (t.ptr + byteOffset) as Pointer;
}

function n(t: NativeArray): number {
  return numel(t.shape);
}

function same(op: string, x: NativeArray, ...rest: [string, NativeArray][]): void {
  sameArrays(op, F32, x, ...rest);
}

function hostInts(t: NativeArray): Int32Array {
  return hostView(t) as Int32Array;
}

function hostView(t: NativeArray): HostArray {
  if (n(t) === 0) return hostArrayFor(t.dtype, new ArrayBuffer(0), 0, 0);
  const bytes = n(t) * DTYPE_BYTES[t.dtype];
  return hostArrayFor(t.dtype, toArrayBuffer(t.ptr, 0, bytes), 0, n(t));
}

export const cpuBackend: Backend = {
  name: "cpu",
  allocator: new CachingAllocator(
    "cpu",
    {
      alloc: (bytes) => {
        expectCount("alloc", "byte count", bytes);
        return Number(native.lft_alloc(bytes) ?? 0);
      },
      free: (p) => native.lft_free(p as Pointer),
    },
    { limitBytes: CPU_MEMORY_LIMIT },
  ),

  upload(dst, src) {
    expectArray("upload", "destination", dst, dst.dtype);
    const bytes = n(dst) * DTYPE_BYTES[dst.dtype];
    if (src.byteLength !== bytes)
      throw new ShapeError(`upload: host data has ${src.byteLength} bytes, tensor ${formatShape(dst.shape)} ${dst.dtype} needs ${bytes}`);
    if (bytes > 0) native.lft_copy_bytes(at(dst), src, bytes);
  },
  download(src) {
    expectArray("download", "source", src, src.dtype);
    if (n(src) === 0) return hostArrayFor(src.dtype, new ArrayBuffer(0), 0, 0);
    return hostView(src).slice();
  },
  fill(dst, value) {
    expectArray("fill", "destination", dst, ["f32", "i32"]);
    if (dst.dtype === "i32") expectInt32("fill", "value", value);
    if (dst.dtype === "f32") native.lft_fill_f32(at(dst), n(dst), value);
    else native.lft_fill_i32(at(dst), n(dst), value);
  },
  copy(dst, src) {
    expectArray("copy", "source", src, src.dtype);
    expectArray("copy", "destination", dst, src.dtype);
    expectNumel("copy", "destination", dst, n(src));
    native.lft_copy_bytes(at(dst), at(src), n(src) * DTYPE_BYTES[src.dtype]);
  },
  cast(dst, src) {
    expectArray("cast", "source", src, src.dtype);
    expectArray("cast", "destination", dst, dst.dtype, src.shape);
    const count = n(src);
    const pair = `${src.dtype}->${dst.dtype}`;
    if (src.dtype === dst.dtype) native.lft_copy_bytes(at(dst), at(src), count * DTYPE_BYTES[src.dtype]);
    else if (pair === "f32->bf16") native.lft_f32_to_bf16(at(dst), at(src), count);
    else if (pair === "bf16->f32") native.lft_bf16_to_f32(at(dst), at(src), count);
    else if (pair === "f32->f16") native.lft_f32_to_f16(at(dst), at(src), count);
    else if (pair === "f16->f32") native.lft_f16_to_f32(at(dst), at(src), count);
    else if (pair === "i32->f32") native.lft_i32_to_f32(at(dst), at(src), count);
    else throw new TypeError(`cast: ${pair} is not supported (cast through f32)`);
  },
  copyRows(dst, dstOff, dstStride, src, srcOff, srcStride, rows, rowBytes) {
    expectArray("copyRows", "source", src, src.dtype);
    expectArray("copyRows", "destination", dst, src.dtype);
    const dstBytes = n(dst) * DTYPE_BYTES[dst.dtype];
    const srcBytes = n(src) * DTYPE_BYTES[src.dtype];
    // Every count a safe non-negative integer; then a row end past 2^53 stays past the buffer even rounded.
    const valid = [dstOff, dstStride, srcOff, srcStride, rows, rowBytes].every((x) => Number.isSafeInteger(x) && x >= 0);
    const lastDst = rows === 0 ? 0 : dstOff + (rows - 1) * dstStride + rowBytes;
    const lastSrc = rows === 0 ? 0 : srcOff + (rows - 1) * srcStride + rowBytes;
    if (!valid || !(lastDst <= dstBytes) || !(lastSrc <= srcBytes)) {
      throw new RangeError(`copyRows: ${rows} rows of ${rowBytes} bytes overrun the source (${srcBytes} bytes) or destination (${dstBytes} bytes)`);
    }
    if (rows > 0 && rowBytes > 0) native.lft_copy_rows(at(dst, dstOff), dstStride, at(src, srcOff), srcStride, rows, rowBytes);
  },
  permute(out, x, perm) {
    if (DTYPE_BYTES[x.dtype] !== 4) throw new TypeError(`permute: only 4-byte dtypes (f32, i32) are supported, got ${x.dtype}`);
    expectArray("permute", "input", x, x.dtype);
    const nd = x.shape.length;
    if (nd > 8 || perm.length !== nd || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
      throw new ShapeError(`permute: ${JSON.stringify(perm)} is not a permutation of the ${nd} axes of ${formatShape(x.shape)} (rank <= 8)`);
    }
    expectArray(
      "permute",
      "out",
      out,
      x.dtype,
      perm.map((p) => x.shape[p]!),
    );
    if (n(x) === 0) return;
    native.lft_permute_4b(at(out), at(x), nd, BigInt64Array.from(x.shape.map(BigInt)), BigInt64Array.from(perm.map(BigInt)));
  },

  matmul(c, a, b, opts: MatmulOptions = {}) {
    expectArray("matmul", "a", a, F32);
    expectArray("matmul", "b", b, F32);
    const transA = opts.transA ?? false;
    const transB = opts.transB ?? false;
    const { batch, m, n: nn, k, strideA: sa, strideB: sb } = matmulDims(a, b, c, transA, transB);
    if (batch * m * nn === 0) return;
    native.lft_matmul(at(c), at(a), at(b), batch, m, nn, k, transA ? 1 : 0, transB ? 1 : 0, sa, sb, m * nn, opts.alpha ?? 1, opts.beta ?? 0);
  },
  binaryForward(op, out, a, b) {
    const name = `${op}`;
    expectArray(name, "a", a, F32);
    expectArray(name, "b", b, F32);
    const total = n(a);
    const m = n(b);
    if (m === 0 ? total !== 0 : total % m !== 0 || a.shape.length < b.shape.length)
      throw new ShapeError(`${name}: b ${formatShape(b.shape)} does not broadcast over a ${formatShape(a.shape)}`);
    expectArray(name, "out", out, F32, a.shape);
    if (total > 0) native.lft_binary_fwd(OPS[op], at(out), at(a), at(b), total / m, m);
  },
  binaryBackward(op, da, db, g, a, b) {
    const name = `${op} backward`;
    expectArray(name, "grad", g, F32, a.shape);
    expectArray(name, "b", b, F32);
    const m = n(b);
    if (m === 0 ? n(a) !== 0 : n(a) % m !== 0 || a.shape.length < b.shape.length)
      throw new ShapeError(`${name}: b ${formatShape(b.shape)} does not broadcast over a ${formatShape(a.shape)}`);
    if (da) expectArray(name, "grad a", da, F32, a.shape);
    if (db) expectArray(name, "grad b", db, F32, b.shape);
    if (n(a) > 0) native.lft_binary_bwd(OPS[op], da ? at(da) : null, db ? at(db) : null, at(g), at(a), at(b), n(a) / m, m);
    else if (db) native.lft_fill_f32(at(db), m, 0);
  },
  scale(out, x, s) {
    same("scale", x, ["out", out]);
    expectFinite("scale", "factor", s);
    native.lft_scale(at(out), at(x), s, n(x));
  },
  axpy(y, x, alpha) {
    same("axpy", x, ["y", y]);
    native.lft_axpy(at(y), at(x), alpha, n(x));
  },
  sum(x) {
    expectArray("sum", "input", x, F32);
    return native.lft_sum(at(x), n(x));
  },
  sumSquares(x) {
    expectArray("sumSquares", "input", x, F32);
    return native.lft_sum_squares(at(x), n(x));
  },
  countNonFinite(x) {
    expectArray("countNonFinite", "input", x, ["f32", "bf16", "f16"]);
    if (n(x) === 0) return 0;
    if (x.dtype === "f32") return Number(native.lft_count_nonfinite_32(at(x), n(x)));
    return Number(native.lft_count_nonfinite_16(at(x), n(x), x.dtype === "bf16" ? 0x7f80 : 0x7c00));
  },
  sumRows(out, x) {
    expectArray("sumRows", "input", x, F32);
    const [rows, cols] = rowsCols(x.shape);
    expectArray("sumRows", "out", out, F32);
    expectNumel("sumRows", "out", out, rows);
    native.lft_sum_rows(at(out), at(x), rows, cols);
  },
  expandRows(out, g, s) {
    expectArray("expandRows", "out", out, F32);
    const [rows, cols] = rowsCols(out.shape);
    expectArray("expandRows", "grad", g, F32);
    expectNumel("expandRows", "grad", g, rows);
    native.lft_expand_rows(at(out), at(g), s, rows, cols);
  },

  siluForward(out, x) {
    same("silu", x, ["out", out]);
    native.lft_silu_fwd(at(out), at(x), n(x));
  },
  siluBackward(dx, dy, x) {
    same("silu backward", x, ["dy", dy], ["dx", dx]);
    native.lft_silu_bwd(at(dx), at(dy), at(x), n(x));
  },
  geluTanhForward(out, x) {
    same("gelu", x, ["out", out]);
    native.lft_gelu_tanh_fwd(at(out), at(x), n(x));
  },
  geluTanhBackward(dx, dy, x) {
    same("gelu backward", x, ["dy", dy], ["dx", dx]);
    native.lft_gelu_tanh_bwd(at(dx), at(dy), at(x), n(x));
  },
  tanhForward(out, x, cap) {
    tanhArgs("tanh", F32, x, cap, ["out", out]);
    native.lft_tanh_fwd(at(out), at(x), cap, n(x));
  },
  tanhBackward(dx, dy, y, cap) {
    tanhArgs("tanh backward", F32, y, cap, ["dy", dy], ["dx", dx]);
    native.lft_tanh_bwd(at(dx), at(dy), at(y), cap, n(y));
  },
  clampForward(out, x, lo, hi) {
    clampArgs("clamp", F32, x, lo, hi, ["out", out]);
    native.lft_clamp_fwd(at(out), at(x), lo, hi, n(x));
  },
  clampBackward(dx, dy, x, lo, hi) {
    clampArgs("clamp backward", F32, x, lo, hi, ["dy", dy], ["dx", dx]);
    native.lft_clamp_bwd(at(dx), at(dy), at(x), lo, hi, n(x));
  },
  swigluForward(out, gate, up) {
    same("swiglu", gate, ["up", up], ["out", out]);
    native.lft_swiglu_fwd(at(out), at(gate), at(up), n(gate));
  },
  swigluBackward(dgate, dup, dy, gate, up) {
    same("swiglu backward", gate, ["up", up], ["dy", dy], ["dgate", dgate], ["dup", dup]);
    native.lft_swiglu_bwd(at(dgate), at(dup), at(dy), at(gate), at(up), n(gate));
  },
  softmaxForward(out, x) {
    same("softmax", x, ["out", out]);
    const [rows, cols] = rowsCols(x.shape);
    native.lft_softmax_fwd(at(out), at(x), rows, cols);
  },
  softmaxBackward(dx, dy, y) {
    same("softmax backward", y, ["dy", dy], ["dx", dx]);
    const [rows, cols] = rowsCols(y.shape);
    native.lft_softmax_bwd(at(dx), at(dy), at(y), rows, cols);
  },

  rmsNormForward(out, rstd, x, w, eps, wOffset) {
    const { rows, cols } = rmsNormForwardArgs(F32, out, rstd, x, w, eps);
    native.lft_rmsnorm_fwd(at(out), at(rstd), at(x), at(w), rows, cols, eps, wOffset);
  },
  rmsNormBackward(dx, dw, dy, x, w, rstd, wOffset) {
    const { rows, cols } = rmsNormBackwardArgs(F32, dx, dw, dy, x, w, rstd);
    native.lft_rmsnorm_bwd(at(dx), dw ? at(dw) : null, at(dy), at(x), at(w), at(rstd), rows, cols, wOffset);
  },
  layerNormForward(out, mean, rstd, x, w, b, eps) {
    const { rows, cols } = layerNormForwardArgs(F32, out, mean, rstd, x, w, b, eps);
    native.lft_layernorm_fwd(at(out), at(mean), at(rstd), at(x), at(w), at(b), rows, cols, eps);
  },
  layerNormBackward(dx, dw, db, dy, x, w, mean, rstd) {
    const { rows, cols } = layerNormBackwardArgs(F32, dx, dw, db, dy, x, w, mean, rstd);
    native.lft_layernorm_bwd(at(dx), dw ? at(dw) : null, db ? at(db) : null, at(dy), at(x), at(w), at(mean), at(rstd), rows, cols);
  },
  rope(out, x, pos, invFreq, sign) {
    const { B, T, H, D, nFreq } = ropeArgs(F32, out, x, pos, invFreq);
    checkStatus("rope", native.lft_rope(at(out), at(x), at(pos), at(invFreq), B, T, H, D, nFreq, sign), formatShape(x.shape));
  },

  attentionForward(out, lse, q, k, v, seg, opts, sinks = null) {
    const op = "attention";
    const { B, Tq, Tk, Hq, Hkv, D } = attentionDims(op, q, k, v, seg);
    attentionScalars(op, opts);
    attentionSinks(op, Hq, sinks);
    expectArray(op, "out", out, F32, q.shape);
    expectArray(op, "lse", lse, F32, [B, Hq, Tq]);
    if (B * Tq * Hq === 0) return;
    const status = native.lft_attention_fwd(
      at(out),
      at(lse),
      at(q),
      at(k),
      at(v),
      seg ? at(seg) : null,
      B,
      Tq,
      Tk,
      Hq,
      Hkv,
      D,
      opts.scale,
      opts.window,
      opts.softcap,
      sinks ? at(sinks) : null,
    );
    checkStatus(op, status, `q ${formatShape(q.shape)}, k ${formatShape(k.shape)}`);
  },
  attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, seg, opts, sinks = null, dsinks = null) {
    const op = "attention backward";
    const { B, Tq, Tk, Hq, Hkv, D } = attentionDims(op, q, k, v, seg);
    attentionScalars(op, opts);
    attentionSinks(op, Hq, sinks, dsinks);
    expectArray(op, "out", out, F32, q.shape);
    expectArray(op, "dout", dout, F32, q.shape);
    expectArray(op, "lse", lse, F32, [B, Hq, Tq]);
    expectArray(op, "dq", dq, F32, q.shape);
    expectArray(op, "dk", dk, F32, k.shape);
    expectArray(op, "dv", dv, F32, k.shape);
    if (B * Tq * Hq === 0) {
      if (n(dk) > 0) native.lft_fill_f32(at(dk), n(dk), 0);
      if (n(dv) > 0) native.lft_fill_f32(at(dv), n(dv), 0);
      if (dsinks && n(dsinks) > 0) native.lft_fill_f32(at(dsinks), n(dsinks), 0);
      return;
    }
    const status = native.lft_attention_bwd(
      at(dq),
      at(dk),
      at(dv),
      at(dout),
      at(out),
      at(lse),
      at(q),
      at(k),
      at(v),
      seg ? at(seg) : null,
      B,
      Tq,
      Tk,
      Hq,
      Hkv,
      D,
      opts.scale,
      opts.window,
      opts.softcap,
      sinks ? at(sinks) : null,
      dsinks ? at(dsinks) : null,
    );
    checkStatus(op, status, `q ${formatShape(q.shape)}, k ${formatShape(k.shape)}`);
  },

  crossEntropyForward(loss, lse, logits, targets, ignoreIndex) {
    const { rows, vocab } = crossEntropyForwardArgs(F32, loss, lse, logits, targets, ignoreIndex, hostInts);
    native.lft_cross_entropy_fwd(at(loss), at(lse), at(logits), at(targets), rows, vocab, ignoreIndex);
  },
  crossEntropyBackward(dlogits, grow, logits, lse, targets, ignoreIndex) {
    const { rows, vocab } = crossEntropyBackwardArgs(F32, dlogits, grow, logits, lse, targets, ignoreIndex, hostInts);
    native.lft_cross_entropy_bwd(at(dlogits), at(grow), at(logits), at(lse), at(targets), rows, vocab, ignoreIndex);
  },
  crossEntropyFused(loss, lse, dlogits, grow, logits, targets, ignoreIndex) {
    const { rows, vocab } = crossEntropyForwardArgs(F32, loss, lse, logits, targets, ignoreIndex, hostInts);
    crossEntropyBackwardArgs(F32, dlogits, grow, logits, lse, targets, ignoreIndex, hostInts);
    native.lft_cross_entropy_fused(at(loss), at(lse), at(dlogits), at(grow), at(logits), at(targets), rows, vocab, ignoreIndex);
  },
  embeddingForward(out, w, ids) {
    const { dim } = embeddingArgs("embedding", F32, "weight", w, ids, "out", out, hostInts);
    native.lft_embedding_fwd(at(out), at(w), at(ids), n(ids), dim);
  },
  embeddingBackward(dw, dout, ids) {
    const { dim } = embeddingArgs("embedding backward", F32, "dweight", dw, ids, "dout", dout, hostInts);
    native.lft_embedding_bwd(at(dw), at(dout), at(ids), n(ids), dim);
  },

  randUniform(out, seed, offset) {
    expectArray("randUniform", "out", out, F32);
    seedArgs("randUniform", seed, offset);
    native.lft_rand_uniform(at(out), n(out), seed, offset);
  },
  randNormal(out, seed, offset, mean, std) {
    expectArray("randNormal", "out", out, F32);
    seedArgs("randNormal", seed, offset);
    native.lft_rand_normal(at(out), n(out), seed, offset, mean, std);
  },
  dropout(out, x, p, seed, offset) {
    dropoutArgs(F32, out, x, p, seed, offset);
    native.lft_dropout(at(out), at(x), n(x), p, seed, offset);
  },

  adamwStep(p, g, m, v, h: AdamWHyper) {
    adamwArgs(p, g, m, v, h);
    return Number(
      native.lft_adamw_step(at(p), at(g), at(m), at(v), n(p), h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, 1 - h.beta1 ** h.step, 1 - h.beta2 ** h.step),
    );
  },
  quant4Linear(out, x, w, inputGrad) {
    const { m } = quant4LinearArgs(out, x, w, inputGrad);
    if (m === 0) return;
    const [f32abs, qabs, nAbs, nCode, offset, nBlock] = q4Scales(w);
    const status = native.lft_q4_matmul(
      at(out),
      at(x),
      at(w.packed),
      at(w.code),
      f32abs,
      qabs,
      nAbs,
      nCode,
      offset,
      nBlock,
      w.blockSize,
      m,
      w.rows,
      w.cols,
      inputGrad ? 1 : 0,
    );
    checkStatus("quant4Linear", status, `${m} rows × weight [${w.rows}, ${w.cols}]`);
  },
  quant4Dequantize(out, w) {
    quant4Args("quant4Dequantize", w);
    dequantizeOut("quant4Dequantize", out, w.rows, w.cols);
    const [f32abs, qabs, nAbs, nCode, offset, nBlock] = q4Scales(w);
    native.lft_q4_dequant(at(out), at(w.packed), at(w.code), f32abs, qabs, nAbs, nCode, offset, nBlock, w.blockSize, w.rows, w.cols);
  },
  int8Linear(out, x, w, inputGrad) {
    const { m } = int8LinearArgs(out, x, w, inputGrad);
    if (m > 0)
      checkStatus(
        "int8Linear",
        native.lft_i8_matmul(at(out), at(x), at(w.q), at(w.rowScale), m, w.rows, w.cols, inputGrad ? 1 : 0),
        `${m} rows × weight [${w.rows}, ${w.cols}]`,
      );
  },
  halfLinear(out, x, w) {
    const { m, rows, cols } = halfLinearArgs(out, x, w);
    if (m > 0)
      checkStatus(
        "halfLinear",
        native.lft_half_matmul(at(out), at(x), at(w), m, rows, cols, w.dtype === "bf16" ? 1 : 0),
        `${m} rows × weight [${rows}, ${cols}]`,
      );
  },
  int8Dequantize(out, w) {
    int8Args("int8Dequantize", w);
    dequantizeOut("int8Dequantize", out, w.rows, w.cols);
    native.lft_i8_dequant(at(out), at(w.q), at(w.rowScale), w.rows, w.cols);
  },
};

/** The scale arguments of the 4-bit kernels: plain f32 absmax, or the double-quantised set (checked before). */
function q4Scales(w: Quant4Arrays): [Pointer | null, Pointer | null, Pointer | null, Pointer | null, number, number] {
  if (w.nested === null) return [at(w.absmax), null, null, null, 0, 1];
  return [null, at(w.absmax), at(w.nested.absmax), at(w.nested.code), w.nested.offset, w.nested.blockSize];
}
