// The CUDA backend: core's Backend contract on one GPU through the driver API, cuBLAS and our own kernels (the
// fatbin built from ffi/cuda/src). Shared pieces live in backend-parts.ts; quantised and optimizer ops in their own files.
import { existsSync, readFileSync } from "node:fs";
import {
  type Block,
  CachingAllocator,
  clampArgs,
  crossEntropyBackwardArgs,
  crossEntropyForwardArgs,
  DTYPE_BYTES,
  dropoutArgs,
  embeddingArgs,
  expectArray,
  expectFinite,
  expectNumel,
  formatShape,
  hostArrayFor,
  layerNormBackwardArgs,
  layerNormForwardArgs,
  type MatmulOptions,
  matmulDims,
  type NativeArray,
  rmsNormBackwardArgs,
  rmsNormForwardArgs,
  ropeArgs,
  rowsCols,
  ShapeError,
  seedArgs,
  tanhArgs,
} from "../../core/index.ts";
import { cudaAttentionOps } from "./attention-ops.ts";
import {
  BLOCK,
  bf16Bits,
  blocks,
  bytesOf,
  CE_CHUNK,
  CUBLAS_WORKSPACE,
  type CudaBackend,
  type CudaBackendOptions,
  F32,
  FLOATS,
  f32Bits,
  I32,
  n,
  OPS,
  same,
  sfx,
  u32Bits,
} from "./backend-parts.ts";
import { type Cublas, loadCublas } from "./cublas.ts";
import { type CudaDriver, loadDriver } from "./driver.ts";
import { parseFatbin } from "./fatbin.ts";
import { FATBIN_PATH, KernelModule } from "./kernels.ts";
import { cudaOptimizerOps } from "./optimizer-ops.ts";
import { cudaQuantOps } from "./quant-ops.ts";

export type { AdamWTensors, CudaBackend, CudaBackendOptions } from "./backend-parts.ts";

export function openCudaBackend(opts: CudaBackendOptions = {}): CudaBackend {
  const ordinal = opts.ordinal ?? 0;
  const loaded = loadDriver();
  if (!loaded.ok) throw new Error(loaded.reason);
  const driver: CudaDriver = loaded.driver;
  driver.init();
  const count = driver.deviceCount();
  if (ordinal < 0 || ordinal >= count) throw new RangeError(`cuda: device ${ordinal} requested, ${count} present`);
  const device = driver.deviceInfo(ordinal);
  const fatbinPath = opts.fatbinPath ?? FATBIN_PATH;
  if (!existsSync(fatbinPath)) throw new Error(`cuda: the kernel fatbin is not built (${fatbinPath} is missing); run \`make cuda\``);
  const image = new Uint8Array(readFileSync(fatbinPath));
  const sm = device.computeCapability[0] * 10 + device.computeCapability[1];
  const archs = parseFatbin(image).cubins.map((c) => c.sm);
  if (!archs.includes(sm))
    throw new Error(
      `cuda: ${device.name} is sm_${sm}, but ${fatbinPath} holds code for ${archs.map((a) => `sm_${a}`).join(", ") || "no architecture"}; rebuild with CUDA_GENCODE for sm_${sm}`,
    );

  driver.retainPrimaryContext(ordinal);
  const stream = driver.createStream(true);
  const mod = new KernelModule(driver, driver.loadModule(image), () => stream, device.maxSharedOptin);
  // The byte budget is the device's total memory: a tensor past it fails with its shape named, before cuMemAlloc.
  const allocator = new CachingAllocator(
    `cuda:${ordinal}`,
    {
      alloc: (bytes) => driver.memAlloc(bytes),
      // Work queued on the stream may still read a cached block: finish it before the memory goes back.
      free: (p) => {
        driver.streamSynchronize(stream);
        driver.memFree(p);
      },
    },
    { limitBytes: driver.memInfo().total },
  );
  const blas = loadCublas();
  if (!blas.ok) throw new Error(blas.reason);
  const cublas: Cublas = blas.cublas;
  const workspace = allocator.alloc(CUBLAS_WORKSPACE);
  cublas.init(stream, workspace.ptr, workspace.size);
  const tf32 = opts.tf32 ?? false;

  const launch = mod.launch.bind(mod);
  const scratch = (bytes: number): Block => allocator.alloc(bytes, "a kernel scratch buffer");
  /** Released right after the launches that use it are queued: the next user is ordered after them. */
  const done = (...bs: (Block | null)[]) => {
    for (const b of bs) if (b) allocator.release(b);
  };

  function readInts(t: NativeArray): Int32Array {
    const out = new Int32Array(n(t));
    driver.copyDtoH(out, t.ptr, out.byteLength, stream);
    driver.streamSynchronize(stream);
    return out;
  }

  function fillZero(t: NativeArray): void {
    if (DTYPE_BYTES[t.dtype] === 4) driver.memset32(t.ptr, 0, n(t), stream);
    else driver.memset16(t.ptr, 0, n(t), stream);
  }

  function reduce(op: string, x: NativeArray, squares: boolean): number {
    expectArray(op, "input", x, FLOATS);
    const count = n(x);
    if (count === 0) return 0;
    const g = Math.min(Math.ceil(count / (BLOCK * 4)), 1024);
    const part = scratch(8 * (g + 1));
    launch(`lft_reduce_partial_${sfx(x)}`, [g, 1, 1], [BLOCK, 1, 1], 0, part.ptr + 8, x.ptr, count, squares ? 1 : 0);
    launch("lft_reduce_final", [1, 1, 1], [BLOCK, 1, 1], 0, part.ptr, part.ptr + 8, g);
    const out = new Float64Array(1);
    driver.copyDtoH(out, part.ptr, 8, stream);
    driver.streamSynchronize(stream);
    done(part);
    return out[0]!;
  }

  /** dw (and db) of a norm: per-chunk column sums in double, then one ordered pass. mean null = RMSNorm. */
  function normWeightGrad(
    dw: NativeArray | null,
    db: NativeArray | null,
    dy: NativeArray,
    x: NativeArray,
    mean: NativeArray | null,
    rstd: NativeArray,
    rows: number,
    cols: number,
  ): void {
    const chunks = rows === 0 ? 0 : Math.min(Math.ceil(rows / 32), 256);
    const perChunk = chunks === 0 ? 0 : Math.ceil(rows / chunks);
    const pw = dw && chunks ? scratch(8 * chunks * cols) : null;
    const pb = db && chunks ? scratch(8 * chunks * cols) : null;
    if (chunks > 0)
      launch(
        `lft_norm_wgrad_partial_${sfx(x)}`,
        [Math.ceil(cols / 32), chunks, 1],
        [32, 8, 1],
        0,
        pw?.ptr ?? 0,
        pb?.ptr ?? 0,
        dy.ptr,
        x.ptr,
        mean?.ptr ?? 0,
        rstd.ptr,
        rows,
        cols,
        perChunk,
      );
    launch(`lft_norm_wgrad_final_${sfx(x)}`, [blocks(cols), 1, 1], [BLOCK, 1, 1], 0, dw?.ptr ?? 0, db?.ptr ?? 0, pw?.ptr ?? 0, pb?.ptr ?? 0, chunks, cols);
    done(pw, pb);
  }

  const quant = cudaQuantOps({ launch, scratch, done, cublas, tf32 });
  const optim = cudaOptimizerOps({ launch, scratch, done, driver, stream });
  const attention = cudaAttentionOps({ launch, scratch, done, fillZero });

  const backend: CudaBackend = {
    name: "cuda",
    allocator,
    device,
    native: { driver, cublas, stream, tf32 },
    libraries: { driver: loaded.path, driverVersion: driver.version(), cublas: blas.path, cublasLt: blas.ltPath, cublasVersion: cublas.version() },

    synchronize() {
      driver.streamSynchronize(stream);
    },
    time(fn) {
      const a = driver.createEvent();
      const b = driver.createEvent();
      try {
        driver.recordEvent(a, stream);
        fn();
        driver.recordEvent(b, stream);
        driver.eventSynchronize(b);
        return driver.elapsedMs(a, b);
      } finally {
        driver.destroyEvent(a);
        driver.destroyEvent(b);
      }
    },

    upload(dst, src) {
      expectArray("upload", "destination", dst, dst.dtype);
      const bytes = bytesOf(dst);
      if (src.byteLength !== bytes)
        throw new ShapeError(`upload: host data has ${src.byteLength} bytes, tensor ${formatShape(dst.shape)} ${dst.dtype} needs ${bytes}`);
      driver.copyHtoD(dst.ptr, src, bytes, stream);
    },
    download(src) {
      expectArray("download", "source", src, src.dtype);
      const out = hostArrayFor(src.dtype, new ArrayBuffer(bytesOf(src)), 0, n(src));
      if (n(src) === 0) return out;
      driver.copyDtoH(out, src.ptr, bytesOf(src), stream);
      driver.streamSynchronize(stream);
      return out;
    },
    fill(dst, value) {
      expectArray("fill", "destination", dst, ["f32", "i32", "bf16"]);
      if (dst.dtype === "f32") {
        f32Bits[0] = value;
        driver.memset32(dst.ptr, u32Bits[0]!, n(dst), stream);
      } else if (dst.dtype === "i32") driver.memset32(dst.ptr, value | 0, n(dst), stream);
      else driver.memset16(dst.ptr, bf16Bits(value), n(dst), stream);
    },
    copy(dst, src) {
      expectArray("copy", "source", src, src.dtype);
      expectArray("copy", "destination", dst, src.dtype);
      expectNumel("copy", "destination", dst, n(src));
      driver.copyDtoD(dst.ptr, src.ptr, bytesOf(src), stream);
    },
    cast(dst, src) {
      expectArray("cast", "source", src, src.dtype);
      expectArray("cast", "destination", dst, dst.dtype, src.shape);
      const count = n(src);
      const pair = `${src.dtype}->${dst.dtype}`;
      const kernel: Record<string, string> = {
        "f32->bf16": "lft_f32_to_bf16",
        "bf16->f32": "lft_bf16_to_f32",
        "f32->f16": "lft_f32_to_f16",
        "f16->f32": "lft_f16_to_f32",
        "i32->f32": "lft_i32_to_f32",
      };
      if (src.dtype === dst.dtype) driver.copyDtoD(dst.ptr, src.ptr, bytesOf(src), stream);
      else if (kernel[pair]) launch(kernel[pair]!, [blocks(count), 1, 1], [BLOCK, 1, 1], 0, dst.ptr, src.ptr, count);
      else throw new TypeError(`cast: ${pair} is not supported (cast through f32)`);
    },
    copyRows(dst, dstOff, dstStride, src, srcOff, srcStride, rows, rowBytes) {
      expectArray("copyRows", "source", src, src.dtype);
      expectArray("copyRows", "destination", dst, src.dtype);
      const dstBytes = bytesOf(dst);
      const srcBytes = bytesOf(src);
      const lastDst = rows === 0 ? 0 : dstOff + (rows - 1) * dstStride + rowBytes;
      const lastSrc = rows === 0 ? 0 : srcOff + (rows - 1) * srcStride + rowBytes;
      if ([dstOff, dstStride, srcOff, srcStride, rows, rowBytes].some((x) => !Number.isInteger(x) || x < 0) || lastDst > dstBytes || lastSrc > srcBytes) {
        throw new RangeError(`copyRows: ${rows} rows of ${rowBytes} bytes overrun the source (${srcBytes} bytes) or destination (${dstBytes} bytes)`);
      }
      if (rows === 0 || rowBytes === 0) return;
      const d = dst.ptr + dstOff;
      const s = src.ptr + srcOff;
      // The widest word that divides every address, stride and length.
      const unit = [16, 4, 1].find((u) => [d, s, dstStride, srcStride, rowBytes].every((x) => x % u === 0))!;
      const name = unit === 16 ? "lft_copy_rows_u128" : unit === 4 ? "lft_copy_rows_u32" : "lft_copy_rows_u8";
      launch(name, [blocks((rows * rowBytes) / unit), 1, 1], [BLOCK, 1, 1], 0, d, dstStride / unit, s, srcStride / unit, rows, rowBytes / unit);
    },
    permute(out, x, perm) {
      const width = DTYPE_BYTES[x.dtype];
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
      const total = n(x);
      if (total === 0) return;
      const dims = new BigInt64Array(16);
      const inStride: number[] = new Array(nd);
      for (let i = nd - 1, s = 1; i >= 0; i--) {
        inStride[i] = s;
        s *= x.shape[i]!;
      }
      perm.forEach((p, i) => {
        dims[i] = BigInt(x.shape[p]!);
        dims[8 + i] = BigInt(inStride[p]!);
      });
      launch(
        width === 4 ? "lft_permute_4b" : "lft_permute_2b",
        [blocks(total), 1, 1],
        [BLOCK, 1, 1],
        0,
        out.ptr,
        x.ptr,
        nd,
        new Uint8Array(dims.buffer),
        total,
      );
    },

    matmul(c, a, b, opts: MatmulOptions = {}) {
      expectArray("matmul", "a", a, FLOATS);
      expectArray("matmul", "b", b, a.dtype);
      const transA = opts.transA ?? false;
      const transB = opts.transB ?? false;
      const { batch, m, n: nn, k, strideA: sa, strideB: sb } = matmulDims(a, b, c, transA, transB, a.dtype === F32 ? F32 : [F32, a.dtype]);
      if (batch * m * nn === 0) return;
      const alpha = opts.alpha ?? 1;
      const beta = opts.beta ?? 0;
      if (k === 0) {
        // An empty inner dimension: C = beta * C (BLAS semantics), without asking cuBLAS about k = 0.
        if (beta === 0) fillZero(c);
        else launch(`lft_scale_${sfx(c)}`, [blocks(n(c)), 1, 1], [BLOCK, 1, 1], 0, c.ptr, c.ptr, beta, n(c));
        return;
      }
      cublas.gemm(
        { m, n: nn, k, transA, transB, batch, strideA: sa, strideB: sb, strideC: m * nn },
        a.ptr,
        b.ptr,
        c.ptr,
        a.dtype as "f32" | "bf16",
        c.dtype as "f32" | "bf16",
        alpha,
        beta,
        tf32,
      );
    },
    binaryForward(op, out, a, b) {
      const name = `${op}`;
      expectArray(name, "a", a, FLOATS);
      expectArray(name, "b", b, a.dtype);
      const total = n(a);
      const m = n(b);
      if (m === 0 ? total !== 0 : total % m !== 0 || a.shape.length < b.shape.length)
        throw new ShapeError(`${name}: b ${formatShape(b.shape)} does not broadcast over a ${formatShape(a.shape)}`);
      expectArray(name, "out", out, a.dtype, a.shape);
      if (total > 0) launch(`lft_binary_fwd_${sfx(a)}`, [blocks(total), 1, 1], [BLOCK, 1, 1], 0, OPS[op], out.ptr, a.ptr, b.ptr, total / m, m);
    },
    binaryBackward(op, da, db, g, a, b) {
      const name = `${op} backward`;
      expectArray(name, "a", a, FLOATS);
      expectArray(name, "grad", g, a.dtype, a.shape);
      expectArray(name, "b", b, a.dtype);
      if (da) expectArray(name, "grad a", da, a.dtype, a.shape);
      if (db) expectArray(name, "grad b", db, a.dtype, b.shape);
      const m = n(b);
      const total = n(a);
      if (total > 0 && (m === 0 || total % m !== 0))
        throw new ShapeError(`${name}: b ${formatShape(b.shape)} does not broadcast over a ${formatShape(a.shape)}`);
      if (total > 0) {
        if (da) launch(`lft_binary_bwd_da_${sfx(a)}`, [blocks(total), 1, 1], [BLOCK, 1, 1], 0, OPS[op], da.ptr, g.ptr, b.ptr, total / m, m);
        if (db) launch(`lft_binary_bwd_db_${sfx(a)}`, [Math.ceil(m / 32), 1, 1], [32, 8, 1], 0, OPS[op], db.ptr, g.ptr, a.ptr, b.ptr, total / m, m);
      } else if (db) fillZero(db);
    },
    scale(out, x, s) {
      same("scale", x, ["out", out]);
      expectFinite("scale", "factor", s);
      launch(`lft_scale_${sfx(x)}`, [blocks(n(x)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, x.ptr, s, n(x));
    },
    axpy(y, x, alpha) {
      same("axpy", x, ["y", y]);
      launch(`lft_axpy_${sfx(x)}`, [blocks(n(x)), 1, 1], [BLOCK, 1, 1], 0, y.ptr, x.ptr, alpha, n(x));
    },
    sum(x) {
      return reduce("sum", x, false);
    },
    sumSquares(x) {
      return reduce("sumSquares", x, true);
    },
    sumRows(out, x) {
      expectArray("sumRows", "input", x, FLOATS);
      const [rows, cols] = rowsCols(x.shape);
      expectArray("sumRows", "out", out, x.dtype);
      expectNumel("sumRows", "out", out, rows);
      launch(`lft_sum_rows_${sfx(x)}`, [Math.ceil(rows / 8), 1, 1], [BLOCK, 1, 1], 0, out.ptr, x.ptr, rows, cols);
    },
    expandRows(out, g, s) {
      expectArray("expandRows", "out", out, FLOATS);
      const [rows, cols] = rowsCols(out.shape);
      expectArray("expandRows", "grad", g, out.dtype);
      expectNumel("expandRows", "grad", g, rows);
      launch(`lft_expand_rows_${sfx(out)}`, [blocks(rows * cols), 1, 1], [BLOCK, 1, 1], 0, out.ptr, g.ptr, s, rows, cols);
    },

    siluForward(out, x) {
      same("silu", x, ["out", out]);
      launch(`lft_silu_fwd_${sfx(x)}`, [blocks(n(x)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, x.ptr, n(x));
    },
    siluBackward(dx, dy, x) {
      same("silu backward", x, ["dy", dy], ["dx", dx]);
      launch(`lft_silu_bwd_${sfx(x)}`, [blocks(n(x)), 1, 1], [BLOCK, 1, 1], 0, dx.ptr, dy.ptr, x.ptr, n(x));
    },
    geluTanhForward(out, x) {
      same("gelu", x, ["out", out]);
      launch(`lft_gelu_tanh_fwd_${sfx(x)}`, [blocks(n(x)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, x.ptr, n(x));
    },
    geluTanhBackward(dx, dy, x) {
      same("gelu backward", x, ["dy", dy], ["dx", dx]);
      launch(`lft_gelu_tanh_bwd_${sfx(x)}`, [blocks(n(x)), 1, 1], [BLOCK, 1, 1], 0, dx.ptr, dy.ptr, x.ptr, n(x));
    },
    tanhForward(out, x, cap) {
      tanhArgs("tanh", FLOATS, x, cap, ["out", out]);
      launch(`lft_tanh_fwd_${sfx(x)}`, [blocks(n(x)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, x.ptr, cap, n(x));
    },
    tanhBackward(dx, dy, y, cap) {
      tanhArgs("tanh backward", FLOATS, y, cap, ["dy", dy], ["dx", dx]);
      launch(`lft_tanh_bwd_${sfx(y)}`, [blocks(n(y)), 1, 1], [BLOCK, 1, 1], 0, dx.ptr, dy.ptr, y.ptr, cap, n(y));
    },
    clampForward(out, x, lo, hi) {
      clampArgs("clamp", FLOATS, x, lo, hi, ["out", out]);
      if (n(x) > 0) launch(`lft_clamp_fwd_${sfx(x)}`, [blocks(n(x)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, x.ptr, lo, hi, n(x));
    },
    clampBackward(dx, dy, x, lo, hi) {
      clampArgs("clamp backward", FLOATS, x, lo, hi, ["dy", dy], ["dx", dx]);
      if (n(x) > 0) launch(`lft_clamp_bwd_${sfx(x)}`, [blocks(n(x)), 1, 1], [BLOCK, 1, 1], 0, dx.ptr, dy.ptr, x.ptr, lo, hi, n(x));
    },
    swigluForward(out, gate, up) {
      same("swiglu", gate, ["up", up], ["out", out]);
      launch(`lft_swiglu_fwd_${sfx(gate)}`, [blocks(n(gate)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, gate.ptr, up.ptr, n(gate));
    },
    swigluBackward(dgate, dup, dy, gate, up) {
      same("swiglu backward", gate, ["up", up], ["dy", dy], ["dgate", dgate], ["dup", dup]);
      launch(`lft_swiglu_bwd_${sfx(gate)}`, [blocks(n(gate)), 1, 1], [BLOCK, 1, 1], 0, dgate.ptr, dup.ptr, dy.ptr, gate.ptr, up.ptr, n(gate));
    },
    softmaxForward(out, x) {
      same("softmax", x, ["out", out]);
      const [rows, cols] = rowsCols(x.shape);
      if (cols > 0) launch(`lft_softmax_fwd_${sfx(x)}`, [rows, 1, 1], [BLOCK, 1, 1], 0, out.ptr, x.ptr, cols);
    },
    softmaxBackward(dx, dy, y) {
      same("softmax backward", y, ["dy", dy], ["dx", dx]);
      const [rows, cols] = rowsCols(y.shape);
      if (cols > 0) launch(`lft_softmax_bwd_${sfx(y)}`, [rows, 1, 1], [BLOCK, 1, 1], 0, dx.ptr, dy.ptr, y.ptr, cols);
    },

    rmsNormForward(out, rstd, x, w, eps, wOffset) {
      const { rows, cols } = rmsNormForwardArgs(FLOATS, out, rstd, x, w, eps);
      launch(`lft_rmsnorm_fwd_${sfx(x)}`, [rows, 1, 1], [BLOCK, 1, 1], 0, out.ptr, rstd.ptr, x.ptr, w.ptr, cols, eps, wOffset);
    },
    rmsNormBackward(dx, dw, dy, x, w, rstd, wOffset) {
      const { rows, cols } = rmsNormBackwardArgs(FLOATS, dx, dw, dy, x, w, rstd);
      launch(`lft_rmsnorm_bwd_dx_${sfx(x)}`, [rows, 1, 1], [BLOCK, 1, 1], 0, dx.ptr, dy.ptr, x.ptr, w.ptr, rstd.ptr, cols, wOffset);
      if (dw) normWeightGrad(dw, null, dy, x, null, rstd, rows, cols);
    },
    layerNormForward(out, mean, rstd, x, w, b, eps) {
      const { rows, cols } = layerNormForwardArgs(FLOATS, out, mean, rstd, x, w, b, eps);
      launch(`lft_layernorm_fwd_${sfx(x)}`, [rows, 1, 1], [BLOCK, 1, 1], 0, out.ptr, mean.ptr, rstd.ptr, x.ptr, w.ptr, b.ptr, cols, eps);
    },
    layerNormBackward(dx, dw, db, dy, x, w, mean, rstd) {
      const { rows, cols } = layerNormBackwardArgs(FLOATS, dx, dw, db, dy, x, w, mean, rstd);
      launch(`lft_layernorm_bwd_dx_${sfx(x)}`, [rows, 1, 1], [BLOCK, 1, 1], 0, dx.ptr, dy.ptr, x.ptr, w.ptr, mean.ptr, rstd.ptr, cols);
      if (dw || db) normWeightGrad(dw, db, dy, x, mean, rstd, rows, cols);
    },
    rope(out, x, pos, invFreq, sign) {
      const { B, T, H, D, nFreq } = ropeArgs(FLOATS, out, x, pos, invFreq);
      if (H * D > 0) launch(`lft_rope_${sfx(x)}`, [B * T, 1, 1], [128, 1, 1], 8 * nFreq, out.ptr, x.ptr, pos.ptr, invFreq.ptr, H, D, nFreq, sign);
    },

    crossEntropyForward(loss, lse, logits, targets, ignoreIndex) {
      const { rows, vocab } = crossEntropyForwardArgs(FLOATS, loss, lse, logits, targets, ignoreIndex, readInts);
      launch(`lft_cross_entropy_fwd_${sfx(logits)}`, [rows, 1, 1], [BLOCK, 1, 1], 0, loss.ptr, lse.ptr, logits.ptr, targets.ptr, vocab, ignoreIndex);
    },
    crossEntropyBackward(dlogits, grow, logits, lse, targets, ignoreIndex) {
      const { rows, vocab } = crossEntropyBackwardArgs(FLOATS, dlogits, grow, logits, lse, targets, ignoreIndex, readInts);
      launch(
        `lft_cross_entropy_bwd_${sfx(logits)}`,
        [rows, Math.ceil(vocab / CE_CHUNK), 1],
        [BLOCK, 1, 1],
        0,
        dlogits.ptr,
        grow.ptr,
        logits.ptr,
        lse.ptr,
        targets.ptr,
        vocab,
        ignoreIndex,
        CE_CHUNK,
      );
    },
    embeddingForward(out, w, ids) {
      const { dim } = embeddingArgs("embedding", FLOATS, "weight", w, ids, "out", out, readInts);
      launch(`lft_embedding_fwd_${sfx(w)}`, [blocks(n(ids) * dim), 1, 1], [BLOCK, 1, 1], 0, out.ptr, w.ptr, ids.ptr, n(ids), dim);
    },
    embeddingBackward(dw, dout, ids) {
      const { dim, ids: host } = embeddingArgs("embedding backward", FLOATS, "dweight", dw, ids, "dout", dout, readInts);
      if (host.length === 0 || dim === 0) return;
      // Group token positions by id, stably (token order within an id), so the kernel needs no atomics.
      const order = Int32Array.from({ length: host.length }, (_, i) => i).sort((x, y) => host[x]! - host[y]! || x - y);
      const uids: number[] = [];
      const starts: number[] = [];
      for (let k = 0; k < order.length; k++) {
        if (k === 0 || host[order[k]!] !== host[order[k - 1]!]) {
          uids.push(host[order[k]!]!);
          starts.push(k);
        }
      }
      starts.push(order.length);
      const table = new Int32Array(order.length + starts.length + uids.length);
      table.set(order, 0);
      table.set(starts, order.length);
      table.set(uids, order.length + starts.length);
      const dev = scratch(table.byteLength);
      driver.copyHtoD(dev.ptr, table, table.byteLength, stream);
      launch(
        `lft_embedding_bwd_${sfx(dw)}`,
        [uids.length, Math.ceil(dim / BLOCK), 1],
        [BLOCK, 1, 1],
        0,
        dw.ptr,
        dout.ptr,
        dev.ptr,
        dev.ptr + 4 * order.length,
        dev.ptr + 4 * (order.length + starts.length),
        dim,
      );
      done(dev);
    },

    randUniform(out, seed, offset) {
      expectArray("randUniform", "out", out, F32);
      seedArgs("randUniform", seed, offset);
      launch("lft_rand_uniform", [blocks(Math.ceil(n(out) / 4)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, n(out), seed, offset);
    },
    randNormal(out, seed, offset, mean, std) {
      expectArray("randNormal", "out", out, F32);
      seedArgs("randNormal", seed, offset);
      launch("lft_rand_normal", [blocks(Math.ceil(n(out) / 4)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, n(out), seed, offset, mean, std);
    },
    dropout(out, x, p, seed, offset) {
      dropoutArgs(FLOATS, out, x, p, seed, offset);
      launch(`lft_dropout_${sfx(x)}`, [blocks(Math.ceil(n(x) / 4)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, x.ptr, n(x), p, seed, offset);
    },
    philoxU32(out, seed, offset) {
      expectArray("philoxU32", "out", out, I32);
      seedArgs("philoxU32", seed, offset);
      launch("lft_philox_u32", [blocks(Math.ceil(n(out) / 4)), 1, 1], [BLOCK, 1, 1], 0, out.ptr, n(out), seed, offset);
    },

    ...optim,
    ...attention,
    ...quant,
  };
  return backend;
}
