// The CUDA binding against a fake driver and cuBLAS (fixtures/fake_cuda.c: device memory in host memory,
// launches and GEMMs recorded, not run), so the whole TypeScript side runs without a GPU: bun:ffi
// marshalling of our signatures, the open sequence (driver, device, fatbin arch check, context, stream,
// module, cuBLAS with its stream and workspace), real bytes through upload/download/fill/copy, and for
// every kernel-launching Backend method, which kernels it launches and what each kernel parameter
// receives -- checked by the parameter *names* in the .cu sources, so an argument passed in the wrong
// position fails here. What this cannot check is the kernels' arithmetic: that needs the GPU tests.
import { type Pointer, toArrayBuffer } from "bun:ffi";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Backend } from "../../core/backend/backend.ts";
import { Tensor } from "../../core/index.ts";
import { type CudaBackend, openCudaBackend } from "../../ffi/cuda/backend.ts";
import { columnMajorCall } from "../../ffi/cuda/cublas.ts";
import { CudaError, openDriverAt } from "../../ffi/cuda/driver.ts";
import { KERNELS, KernelModule } from "../../ffi/cuda/kernels.ts";
import { buildFakeDriver, decodeLaunches, dir, type FakeHooks, gcc, haveFatbin, type Launch, lib, names, removeFakeDriver } from "./fake-driver.ts";

let fake: FakeHooks;
beforeAll(() => {
  if (gcc) fake = buildFakeDriver(gcc);
});
afterAll(removeFakeDriver);
const launchesOf = (fn: () => void): Launch[] => decodeLaunches(fake, fn);

const round = Math.fround;

describe.skipIf(!gcc)("the driver binding over the fake libcuda", () => {
  test("every kernel in the table has parameter names in the .cu sources, one per parameter", () => {
    for (const [k, types] of KERNELS) expect([k, names.get(k)?.length]).toEqual([k, types.length]);
  });

  test("memory: alloc, copies both ways and 32-bit memset marshal pointers and sizes; OOM is 0, not a throw", () => {
    const d = openDriverAt(lib);
    d.init();
    expect(d.deviceCount()).toBe(1);
    expect(d.deviceInfo(0)).toEqual({
      ordinal: 0,
      name: "Fake GPU",
      computeCapability: [9, 0],
      multiprocessors: 132,
      totalBytes: 80 * 2 ** 30,
      maxSharedOptin: 232448,
    });
    const p = d.memAlloc(4096);
    expect(p % 256).toBe(0);
    const src = Float32Array.from({ length: 1024 }, (_, i) => i * 0.5);
    d.copyHtoD(p, src, 4096, null);
    d.memset32(p + 16, 0x3f800000, 2, null);
    const back = new Float32Array(1024);
    d.copyDtoH(back, p, 4096, null);
    expect(back[3]).toBe(1.5);
    expect([back[4], back[5], back[6]]).toEqual([1, 1, 3]);
    d.memFree(p);
    expect(d.memAlloc(2 ** 41)).toBe(0);
    expect(d.elapsedMs(1 as unknown as Pointer, 2 as unknown as Pointer)).toBe(1.5);
  });

  test("a failing call throws CudaError with the call, the error's name, code and description", () => {
    const d = openDriverAt(lib);
    let e: unknown;
    try {
      d.check(2, "cuMemAlloc(64 bytes)");
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(CudaError);
    expect((e as CudaError).message).toBe("cuMemAlloc(64 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory");
    expect((e as CudaError).cuName).toBe("CUDA_ERROR_OUT_OF_MEMORY");
    expect(d.errorName(12345)).toBe("CUresult 12345");
    expect(() => d.loadModule(new Uint8Array(16))).toThrow("cuModuleLoadData failed: CUDA_ERROR_INVALID_IMAGE (200)");
  });

  test("cuLaunchKernel receives grid, block, shared bytes, stream and every parameter value intact", () => {
    const d = openDriverAt(lib);
    const mod = new KernelModule(d, d.loadModule(new Uint8Array(Uint32Array.of(0xba55ed50).buffer)), () => 0x5e50 as unknown as Pointer, 100_000);
    const name = "lft_attention_bwd_dkdv_d4_bf16";
    const args = [0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000, 0x8000, 0, 17, 50, 8, 2, 128, 0.125, 9, 30] as const;
    const [l] = launchesOf(() => mod.launch(name, [3, 2, 1], [128, 1, 1], 70_000, ...args));
    expect(l!.name).toBe(name);
    expect(l!.grid).toEqual([3, 2, 1]);
    expect(l!.block).toEqual([128, 1, 1]);
    expect(l!.shared).toBe(70_000);
    expect(Object.values(l!.args)).toEqual([...args]);
    expect(fake.fake_attr_value()).toBe(70_000); // above 48 KiB: opted in first
    expect(launchesOf(() => mod.launch(name, [0, 2, 1], [128, 1, 1], 0, ...args))).toEqual([]); // empty grid: no launch
    expect(() => mod.launch(name, [1, 1, 1], [128, 1, 1], 200_000, ...args)).toThrow("this device allows 100000");
    expect(() => mod.launch("lft_nope", [1, 1, 1], [1, 1, 1], 0)).toThrow("no kernel named lft_nope");
    expect(() => mod.launch(name, [1, 1, 1], [128, 1, 1], 0, 1, 2)).toThrow("expected 17 arguments");
  });
});

describe.skipIf(!gcc || !haveFatbin)("the CUDA Backend over the fake driver and cuBLAS", () => {
  let b: CudaBackend;
  const saved = process.env.LD_LIBRARY_PATH;
  beforeAll(() => {
    process.env.LD_LIBRARY_PATH = `${dir}${saved ? `:${saved}` : ""}`;
    try {
      b = openCudaBackend();
    } finally {
      process.env.LD_LIBRARY_PATH = saved;
      if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
    }
  });

  const made: Tensor[] = [];
  const t = (shape: number[], dtype: "f32" | "bf16" | "i32" = "f32", data?: Float32Array | Int32Array | Uint16Array) => {
    const x = Tensor.alloc(b as Backend, shape, dtype, false);
    if (data) b.upload(x, data);
    made.push(x);
    return x;
  };
  afterAll(() => {
    for (const x of made) x.dispose();
  });

  test("opens: the fake device, the fatbin's sm_90 code, cuBLAS bound to our stream with a 32 MiB workspace", () => {
    expect(b.name).toBe("cuda");
    expect(b.device.name).toBe("Fake GPU");
    expect(b.libraries.driver).toBe(join(dir, "libcuda.so.1"));
    expect(b.libraries.cublas).toBe(join(dir, "libcublas.so.12"));
    expect(b.libraries.cublasLt).toBe(join(dir, "libcublasLt.so.12"));
    expect(b.libraries.cublasVersion).toBe(130000);
    expect(fake.fake_blas_state(0)).toBe(0x5e50n);
    expect(fake.fake_blas_state(2)).toBe(BigInt(32 << 20));
    expect(fake.fake_blas_state(3)).toBe(0n); // CUBLAS_DEFAULT_MATH: no TF32 for f32
    expect(b.allocator.stats().liveBytes).toBe(32 << 20); // the workspace is counted
  });

  test("real bytes through upload, download, fill (f32, i32, bf16), copy, same-dtype cast, copyRows bounds", () => {
    const x = t(
      [3, 5],
      "f32",
      Float32Array.from({ length: 15 }, (_, i) => i - 7.5),
    );
    expect(b.download(x)).toEqual(Float32Array.from({ length: 15 }, (_, i) => i - 7.5));
    const y = t([15]);
    b.copy(y, x);
    expect(b.download(y)).toEqual(b.download(x));
    b.fill(y, -0.25);
    expect([...(b.download(y) as Float32Array)].every((v) => v === -0.25)).toBe(true);
    const i = t([4], "i32");
    b.fill(i, -3);
    expect(b.download(i)).toEqual(Int32Array.of(-3, -3, -3, -3));
    const h = t([2], "bf16");
    b.fill(h, 1.5);
    expect(b.download(h)).toEqual(Uint16Array.of(0x3fc0, 0x3fc0));
    const z = t([3, 5]);
    b.cast(z, x);
    expect(b.download(z)).toEqual(b.download(x));
    expect(() => b.upload(x, new Float32Array(3))).toThrow("host data has 12 bytes");
    expect(() => b.copyRows(z, 0, 20, x, 0, 20, 4, 20)).toThrow("overrun");
  });

  test("matmul calls cublasGemmStridedBatchedEx with the swapped, column-major operands", () => {
    const a = t([2, 3, 4], "bf16");
    const w = t([5, 4], "bf16");
    const c = t([2, 3, 5]);
    const before = fake.fake_gemm_count();
    b.matmul(c, a, w, { transB: true, alpha: 0.5, beta: 0 });
    expect(fake.fake_gemm_count()).toBe(before + 1);
    const call = columnMajorCall({ m: 3, n: 5, k: 4, transA: false, transB: true, batch: 2, strideA: 12, strideB: 0, strideC: 15 });
    const got = Array.from({ length: 23 }, (_, i) => Number(fake.fake_gemm_arg(i)));
    expect(got).toEqual([
      0xb1a5,
      call.transa,
      call.transb,
      call.m,
      call.n,
      call.k,
      0,
      w.ptr,
      14,
      call.lda,
      call.strideA,
      a.ptr,
      14,
      call.ldb,
      call.strideB,
      0,
      c.ptr,
      0,
      call.ldc,
      call.strideC,
      call.batch,
      68,
      -1,
    ]);
    expect([fake.fake_gemm_scalar(0), fake.fake_gemm_scalar(1)]).toEqual([0.5, 0]);
  });

  test("elementwise, reductions and activations pass each tensor to the parameter of its name", () => {
    const [a, bb, out, g, da, db] = [t([6, 8]), t([8]), t([6, 8]), t([6, 8]), t([6, 8]), t([8])];
    expect(launchesOf(() => b.binaryForward("div", out, a, bb))).toMatchObject([
      { name: "lft_binary_fwd_f32", args: { op: 3, out: out.ptr, a: a.ptr, b: bb.ptr, n: 6, m: 8 } },
    ]);
    expect(launchesOf(() => b.binaryBackward("mul", da, db, g, a, bb))).toMatchObject([
      { name: "lft_binary_bwd_da_f32", args: { op: 2, da: da.ptr, g: g.ptr, b: bb.ptr, n: 6, m: 8 } },
      { name: "lft_binary_bwd_db_f32", grid: [1, 1, 1], block: [32, 8, 1], args: { op: 2, db: db.ptr, g: g.ptr, a: a.ptr, b: bb.ptr, n: 6, m: 8 } },
    ]);
    expect(launchesOf(() => b.scale(out, a, 3))).toMatchObject([{ name: "lft_scale_f32", args: { out: out.ptr, x: a.ptr, s: 3, n: 48 } }]);
    expect(launchesOf(() => b.axpy(out, a, -2))).toMatchObject([{ name: "lft_axpy_f32", args: { y: out.ptr, x: a.ptr, alpha: -2, n: 48 } }]);
    const rows = t([6]);
    expect(launchesOf(() => b.sumRows(rows, a))).toMatchObject([{ name: "lft_sum_rows_f32", args: { out: rows.ptr, x: a.ptr, rows: 6, cols: 8 } }]);
    expect(launchesOf(() => b.expandRows(out, rows, 0.5))).toMatchObject([
      { name: "lft_expand_rows_f32", args: { out: out.ptr, g: rows.ptr, s: 0.5, rows: 6, cols: 8 } },
    ]);
    const sum = launchesOf(() => b.sumSquares(a));
    expect(sum).toMatchObject([
      { name: "lft_reduce_partial_f32", args: { x: a.ptr, n: 48, squares: 1 } },
      { name: "lft_reduce_final", grid: [1, 1, 1], args: { count: 1 } },
    ]);
    expect(sum[1]!.args.partial).toBe(sum[0]!.args.partial); // the final pass reads the partials the first wrote
    expect(sum[1]!.args.out).toBe((sum[0]!.args.partial as number) - 8);
    const [up, dy, dx, dup] = [t([6, 8]), t([6, 8]), t([6, 8]), t([6, 8])];
    expect(launchesOf(() => b.siluBackward(dx, dy, a))).toMatchObject([{ name: "lft_silu_bwd_f32", args: { dx: dx.ptr, dy: dy.ptr, x: a.ptr, n: 48 } }]);
    expect(launchesOf(() => b.geluTanhBackward(dx, dy, a))).toMatchObject([{ name: "lft_gelu_tanh_bwd_f32", args: { dx: dx.ptr, dy: dy.ptr, x: a.ptr } }]);
    expect(launchesOf(() => b.tanhForward(out, a, 30))).toMatchObject([{ name: "lft_tanh_fwd_f32", args: { out: out.ptr, x: a.ptr, cap: 30, n: 48 } }]);
    expect(launchesOf(() => b.tanhBackward(dx, dy, out, 30))).toMatchObject([
      { name: "lft_tanh_bwd_f32", args: { dx: dx.ptr, dy: dy.ptr, y: out.ptr, cap: 30, n: 48 } },
    ]);
    expect(() => b.tanhForward(out, a, 0)).toThrow("tanh: cap must be a finite number > 0, got 0");
    expect(launchesOf(() => b.clampForward(out, a, Number.NEGATIVE_INFINITY, 7))).toMatchObject([
      { name: "lft_clamp_fwd_f32", args: { out: out.ptr, x: a.ptr, lo: Number.NEGATIVE_INFINITY, hi: 7, n: 48 } },
    ]);
    expect(launchesOf(() => b.clampBackward(dx, dy, a, -7, 7))).toMatchObject([
      { name: "lft_clamp_bwd_f32", args: { dx: dx.ptr, dy: dy.ptr, x: a.ptr, lo: -7, hi: 7, n: 48 } },
    ]);
    expect(() => b.clampForward(out, a, 1, 0)).toThrow("clamp: bounds must satisfy lo <= hi (infinite for one side), got [1, 0]");
    expect(launchesOf(() => b.swigluForward(out, a, up))).toMatchObject([
      { name: "lft_swiglu_fwd_f32", args: { out: out.ptr, gate: a.ptr, up: up.ptr, n: 48 } },
    ]);
    expect(launchesOf(() => b.swigluBackward(dx, dup, dy, a, up))).toMatchObject([
      { name: "lft_swiglu_bwd_f32", args: { dgate: dx.ptr, dup: dup.ptr, dy: dy.ptr, gate: a.ptr, up: up.ptr } },
    ]);
    expect(launchesOf(() => b.softmaxForward(out, a))).toMatchObject([
      { name: "lft_softmax_fwd_f32", grid: [6, 1, 1], args: { out: out.ptr, x: a.ptr, cols: 8 } },
    ]);
    expect(launchesOf(() => b.softmaxBackward(dx, dy, out))).toMatchObject([
      { name: "lft_softmax_bwd_f32", args: { dx: dx.ptr, dy: dy.ptr, y: out.ptr, cols: 8 } },
    ]);
  });

  test("norms and rope: statistics, weights and the weight-gradient passes", () => {
    const [x, y, dy, dx] = [t([70, 16], "bf16"), t([70, 16], "bf16"), t([70, 16], "bf16"), t([70, 16], "bf16")];
    const [w, bias, dw, db] = [t([16], "bf16"), t([16], "bf16"), t([16], "bf16"), t([16], "bf16")];
    const [rstd, mean] = [t([70]), t([70])];
    expect(launchesOf(() => b.rmsNormForward(y, rstd, x, w, 1e-6, 1))).toMatchObject([
      { name: "lft_rmsnorm_fwd_bf16", grid: [70, 1, 1], args: { out: y.ptr, rstd: rstd.ptr, x: x.ptr, w: w.ptr, cols: 16, eps: round(1e-6), w_offset: 1 } },
    ]);
    const rb = launchesOf(() => b.rmsNormBackward(dx, dw, dy, x, w, rstd, 1));
    expect(rb).toMatchObject([
      { name: "lft_rmsnorm_bwd_dx_bf16", args: { dx: dx.ptr, dy: dy.ptr, x: x.ptr, w: w.ptr, rstd: rstd.ptr, cols: 16, w_offset: 1 } },
      {
        name: "lft_norm_wgrad_partial_bf16",
        grid: [1, 3, 1],
        args: { part_b: 0, dy: dy.ptr, x: x.ptr, mean: 0, rstd: rstd.ptr, rows: 70, cols: 16, rows_per_chunk: 24 },
      },
      { name: "lft_norm_wgrad_final_bf16", args: { dw: dw.ptr, db: 0, part_b: 0, chunks: 3, cols: 16 } },
    ]);
    expect(rb[2]!.args.part_w).toBe(rb[1]!.args.part_w);
    expect(launchesOf(() => b.rmsNormBackward(dx, null, dy, x, w, rstd, 0)).map((l) => l.name)).toEqual(["lft_rmsnorm_bwd_dx_bf16"]);
    expect(launchesOf(() => b.layerNormForward(y, mean, rstd, x, w, bias, 1e-5))).toMatchObject([
      { name: "lft_layernorm_fwd_bf16", args: { out: y.ptr, mean: mean.ptr, rstd: rstd.ptr, x: x.ptr, w: w.ptr, b: bias.ptr, cols: 16, eps: round(1e-5) } },
    ]);
    const lb = launchesOf(() => b.layerNormBackward(dx, null, db, dy, x, w, mean, rstd));
    expect(lb).toMatchObject([
      { name: "lft_layernorm_bwd_dx_bf16", args: { dx: dx.ptr, dy: dy.ptr, x: x.ptr, w: w.ptr, mean: mean.ptr, rstd: rstd.ptr, cols: 16 } },
      { name: "lft_norm_wgrad_partial_bf16", args: { part_w: 0, dy: dy.ptr, x: x.ptr, mean: mean.ptr, rstd: rstd.ptr } },
      { name: "lft_norm_wgrad_final_bf16", args: { dw: 0, db: db.ptr, part_w: 0 } },
    ]);
    const [q, qo] = [t([2, 3, 4, 10]), t([2, 3, 4, 10])];
    const pos = t([2, 3], "i32");
    const inv = t([4]);
    expect(launchesOf(() => b.rope(qo, q, pos, inv, -1))).toMatchObject([
      {
        name: "lft_rope_f32",
        grid: [6, 1, 1],
        block: [128, 1, 1],
        shared: 32,
        args: { out: qo.ptr, x: q.ptr, pos: pos.ptr, inv_freq: inv.ptr, heads: 4, head_dim: 10, n_freq: 4, sign: -1 },
      },
    ]);
  });

  test("attention forward and backward: tensors, sizes, head-dim class and shared memory", () => {
    const [q, out, dq, dout] = [t([2, 17, 4, 80]), t([2, 17, 4, 80]), t([2, 17, 4, 80]), t([2, 17, 4, 80])];
    const [k, v, dk, dv] = [t([2, 50, 2, 80]), t([2, 50, 2, 80]), t([2, 50, 2, 80]), t([2, 50, 2, 80])];
    const lse = t([2, 4, 17]);
    const seg = t([2, 50], "i32");
    const opts = { scale: 0.125, window: 9, softcap: 30 };
    const tail = { Tq: 17, Tk: 50, Hq: 4, Hkv: 2, D: 80, scale: 0.125, window: 9, softcap: 30 };
    const S = 81;
    expect(launchesOf(() => b.attentionForward(out, lse, q, k, v, seg, opts))).toMatchObject([
      {
        name: "lft_attention_fwd_d4_f32",
        grid: [2, 4, 2],
        block: [128, 1, 1],
        shared: 4 * (16 + 64) * S,
        args: { out: out.ptr, lse: lse.ptr, q: q.ptr, k: k.ptr, v: v.ptr, seg: seg.ptr, ...tail },
      },
    ]);
    const bw = launchesOf(() => b.attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, null, opts));
    expect(bw).toMatchObject([
      { name: "lft_attention_bwd_dot_f32", grid: [17, 1, 1], args: { dout: dout.ptr, out: out.ptr, B: 2, Tq: 17, Hq: 4, D: 80 } },
      {
        name: "lft_attention_bwd_dq_d4_f32",
        grid: [2, 4, 2],
        shared: 4 * 2 * (16 + 32) * S,
        args: { dq: dq.ptr, dout: dout.ptr, lse: lse.ptr, q: q.ptr, k: k.ptr, v: v.ptr, seg: 0, ...tail },
      },
      {
        name: "lft_attention_bwd_dkdv_d4_f32",
        grid: [4, 2, 2],
        shared: 4 * ((32 + 64) * S + 64),
        args: { dk: dk.ptr, dv: dv.ptr, dout: dout.ptr, lse: lse.ptr, q: q.ptr, k: k.ptr, v: v.ptr, seg: 0, ...tail },
      },
    ]);
    expect(bw[1]!.args.Dl).toBe(bw[0]!.args.Dl);
    expect(bw[2]!.args.Dl).toBe(bw[0]!.args.Dl);
  });

  test("attention sinks: the forward passes them, the backward adds one reduction per head for their gradient", () => {
    const [q, out, dq, dout] = [t([2, 17, 4, 80]), t([2, 17, 4, 80]), t([2, 17, 4, 80]), t([2, 17, 4, 80])];
    const [k, v, dk, dv] = [t([2, 50, 2, 80]), t([2, 50, 2, 80]), t([2, 50, 2, 80]), t([2, 50, 2, 80])];
    const [lse, sinks, dsinks] = [t([2, 4, 17]), t([4]), t([4])];
    const opts = { scale: 0.125, window: 0, softcap: 0 };
    const fw = launchesOf(() => b.attentionForward(out, lse, q, k, v, null, opts, sinks));
    expect(fw).toMatchObject([{ name: "lft_attention_fwd_d4_f32", args: { out: out.ptr, lse: lse.ptr, sinks: sinks.ptr } }]);
    expect(launchesOf(() => b.attentionForward(out, lse, q, k, v, null, opts))[0]!.args.sinks).toBe(0);
    const bw = launchesOf(() => b.attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, null, opts, sinks, dsinks));
    expect(bw.map((l) => l.name)).toEqual([
      "lft_attention_bwd_dot_f32",
      "lft_attention_bwd_dq_d4_f32",
      "lft_attention_bwd_dkdv_d4_f32",
      "lft_attention_bwd_sinks",
    ]);
    expect(bw[3]).toMatchObject({ grid: [4, 1, 1], block: [256, 1, 1], args: { dsinks: dsinks.ptr, sinks: sinks.ptr, lse: lse.ptr, B: 2, Tq: 17, Hq: 4 } });
    expect(bw[3]!.args.Dl).toBe(bw[0]!.args.Dl);
    // Without a gradient to fill (frozen sinks) there is no extra launch; bad sinks never reach the GPU.
    expect(launchesOf(() => b.attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, null, opts, sinks, null))).toHaveLength(3);
    expect(() => b.attentionForward(out, lse, q, k, v, null, opts, t([3]))).toThrow(/attention: sinks must have shape \[4\], got \[3\]/);
    expect(() => b.attentionBackward(dq, dk, dv, dout, out, lse, q, k, v, null, opts, null, dsinks)).toThrow(/a sinks gradient needs the sinks/);
  });

  test("cross-entropy, embedding (with its id grouping table), dropout, randomness, casts, permute, copyRows", () => {
    const logits = t([4, 3000], "bf16");
    const targets = t([4], "i32", Int32Array.of(5, -100, 2999, 0));
    const [loss, lse, grow] = [t([4]), t([4]), t([4])];
    const dl = t([4, 3000], "bf16");
    expect(launchesOf(() => b.crossEntropyForward(loss, lse, logits, targets, -100))).toMatchObject([
      {
        name: "lft_cross_entropy_fwd_bf16",
        grid: [4, 1, 1],
        args: { loss: loss.ptr, lse: lse.ptr, logits: logits.ptr, targets: targets.ptr, vocab: 3000, ignore_index: -100 },
      },
    ]);
    expect(launchesOf(() => b.crossEntropyBackward(dl, grow, logits, lse, targets, -100))).toMatchObject([
      {
        name: "lft_cross_entropy_bwd_bf16",
        grid: [4, 2, 1],
        args: { dlogits: dl.ptr, grow: grow.ptr, logits: logits.ptr, lse: lse.ptr, targets: targets.ptr, vocab: 3000, ignore_index: -100, chunk: 2048 },
      },
    ]);

    const w = t([10, 6]);
    const ids = t([2, 4], "i32", Int32Array.of(7, 2, 7, 0, 2, 7, 9, 2));
    const eo = t([2, 4, 6]);
    expect(launchesOf(() => b.embeddingForward(eo, w, ids))).toMatchObject([
      { name: "lft_embedding_fwd_f32", args: { out: eo.ptr, w: w.ptr, ids: ids.ptr, n: 8, dim: 6 } },
    ]);
    const [eb] = launchesOf(() => b.embeddingBackward(w, eo, ids));
    expect(eb).toMatchObject({ name: "lft_embedding_bwd_f32", grid: [4, 1, 1], args: { dw: w.ptr, dout: eo.ptr, dim: 6 } });
    const read = (p: number, n: number) => [...new Int32Array(toArrayBuffer(p as Pointer, 0, 4 * n))];
    // ids 0 at {3}, 2 at {1, 4, 7}, 7 at {0, 2, 5}, 9 at {6}: positions grouped by id, in token order
    expect(read(eb!.args.order as number, 8)).toEqual([3, 1, 4, 7, 0, 2, 5, 6]);
    expect(read(eb!.args.starts as number, 5)).toEqual([0, 1, 4, 7, 8]);
    expect(read(eb!.args.uids as number, 4)).toEqual([0, 2, 7, 9]);

    const [x, o] = [t([1001]), t([1001])];
    expect(launchesOf(() => b.dropout(o, x, 0.25, 2n ** 63n + 1n, 5n))).toMatchObject([
      { name: "lft_dropout_f32", args: { out: o.ptr, x: x.ptr, n: 1001, p: 0.25, seed: 2n ** 63n + 1n, offset: 5n } },
    ]);
    expect(launchesOf(() => b.randNormal(o, 3n, 4n, 0.5, 2))).toMatchObject([
      { name: "lft_rand_normal", args: { out: o.ptr, n: 1001, seed: 3n, offset: 4n, mean: 0.5, std: 2 } },
    ]);
    expect(launchesOf(() => b.randUniform(o, 3n, 4n))).toMatchObject([{ name: "lft_rand_uniform", grid: [1, 1, 1], args: { out: o.ptr, n: 1001 } }]);
    const hb = t([1001], "bf16");
    expect(launchesOf(() => b.cast(hb, x))).toMatchObject([{ name: "lft_f32_to_bf16", args: { out: hb.ptr, in: x.ptr, n: 1001 } }]);
    const p = t([3, 4, 5]);
    const pt = t([5, 3, 4]);
    const [pl] = launchesOf(() => b.permute(pt, p, [2, 0, 1]));
    expect(pl).toMatchObject({ name: "lft_permute_4b", args: { out: pt.ptr, in: p.ptr, ndim: 3, total: 60 } });
    const dims = new BigInt64Array((pl!.args.dims as Uint8Array).slice().buffer);
    expect([...dims.subarray(0, 3)]).toEqual([5n, 3n, 4n]); // output shape
    expect([...dims.subarray(8, 11)]).toEqual([1n, 20n, 5n]); // input stride of each output axis
    expect(launchesOf(() => b.copyRows(p, 16, 80, pt, 32, 48, 3, 32))).toMatchObject([
      { name: "lft_copy_rows_u128", args: { d: p.ptr + 16, ds: 5, s: pt.ptr + 32, ss: 3, rows: 3, w: 2 } },
    ]);
    expect(launchesOf(() => b.copyRows(p, 4, 80, pt, 8, 48, 3, 12))).toMatchObject([{ name: "lft_copy_rows_u32", args: { ds: 20, ss: 12, w: 3 } }]);
  });

  test("non-finite counts: AdamW and countNonFinite add into a zeroed u64 counter that is read back", () => {
    const x = t([70_000], "bf16");
    let count = -1;
    const [c] = launchesOf(() => {
      count = b.countNonFinite(x);
    });
    expect(c).toMatchObject({ name: "lft_count_nonfinite_bf16", grid: [Math.ceil(70_000 / 256), 1, 1], args: { x: x.ptr, n: 70_000 } });
    expect(c!.args.count).not.toBe(0);
    // The fake runs no kernel, so the counter is what the memset left: 0.
    expect(count).toBe(0);
    const ts = [{ p: t([10]), g: t([10]), m: t([10]), v: t([10]) }];
    let bad = -1;
    const [l] = launchesOf(() => {
      bad = b.adamwStepMulti(ts, { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, step: 1 });
    });
    expect(l!.args.bad).not.toBe(0);
    expect(bad).toBe(0);
  });

  test("AdamW: one launch over a chunk table of every tensor; NF4 sizes", () => {
    const big = 70_000;
    const ts = [big, 10].map((n) => ({ p: t([n]), g: t([n]), m: t([n]), v: t([n]) }));
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01, step: 3 };
    const [l] = launchesOf(() => b.adamwStepMulti(ts, h));
    expect(l).toMatchObject({
      name: "lft_adamw_multi",
      grid: [3, 1, 1],
      args: {
        lr: round(1e-3),
        beta1: round(0.9),
        beta2: round(0.95),
        eps: round(1e-8),
        weight_decay: round(0.01),
        bc1: round(1 - 0.9 ** 3),
        bc2: round(1 - 0.95 ** 3),
      },
    });
    const table = [...new BigInt64Array(toArrayBuffer(l!.args.chunks as Pointer, 0, 3 * 48))].map(Number);
    const [a0, a1] = ts;
    expect(table).toEqual([
      a0!.p.ptr,
      a0!.g.ptr,
      a0!.m.ptr,
      a0!.v.ptr,
      0,
      65536,
      a0!.p.ptr,
      a0!.g.ptr,
      a0!.m.ptr,
      a0!.v.ptr,
      65536,
      big - 65536,
      a1!.p.ptr,
      a1!.g.ptr,
      a1!.m.ptr,
      a1!.v.ptr,
      0,
      10,
    ]);
    const x = t([1001], "bf16");
    const packed = t([126], "i32");
    const absmax = t([16]);
    expect(launchesOf(() => b.nf4Quantize(packed, absmax, x, 64))).toMatchObject([
      { name: "lft_nf4_quant_bf16", grid: [2, 1, 1], args: { packed: packed.ptr, absmax: absmax.ptr, x: x.ptr, n: 1001, block_size: 64 } },
    ]);
    expect(launchesOf(() => b.nf4Dequantize(x, packed, absmax, 64))).toMatchObject([
      { name: "lft_nf4_dequant_bf16", args: { out: x.ptr, packed: packed.ptr, absmax: absmax.ptr, n: 1001, block_size: 64 } },
    ]);
    expect(() => b.nf4Quantize(t([125], "i32"), absmax, x, 64)).toThrow("packed codes");
    expect(() => b.nf4Quantize(packed, absmax, x, 63)).toThrow("positive even integer");
  });

  test("quant4Linear / int8Linear: tile by tile, decode then cuBLAS, column blocks through copyRows", () => {
    // cols 2^20: a 2^22-value tile holds 4 rows, so 9 rows take tiles of 4, 4 and 1.
    const [rows, cols] = [9, 2 ** 20];
    const x = t([1, cols]);
    const out = t([1, rows]);
    const packed = t([(rows * cols) / 8], "i32");
    const code = t([16]);
    const absmax = t([(rows * cols) / 64]);
    const w = { rows, cols, blockSize: 64, packed, code, absmax, nested: null };
    const gemms = fake.fake_gemm_count();
    const fwd = launchesOf(() => b.quant4Linear!(out, x, w, false));
    expect(fake.fake_gemm_count()).toBe(gemms + 3);
    expect(fwd.map((l) => l.name)).toEqual(["lft_q4_decode", "lft_copy_rows_u32", "lft_q4_decode", "lft_copy_rows_u32", "lft_q4_decode", "lft_copy_rows_u32"]);
    expect(fwd.filter((l) => l.name === "lft_q4_decode").map((l) => [l.args.e0, l.args.count])).toEqual([
      [0, 4 * cols],
      [4 * cols, 4 * cols],
      [8 * cols, cols],
    ]);
    expect(fwd[0]!.args).toMatchObject({ packed: packed.ptr, code: code.ptr, absmax_f32: absmax.ptr, absmax_q: 0, block: 64 });
    expect(fwd[5]!.args).toMatchObject({ d: out.ptr + 4 * 8, ds: rows, rows: 1, w: 1 });
    // the input gradient gathers dy's column block into scratch, then accumulates (beta 1 after the first tile)
    const dx = t([1, cols]);
    const bwd = launchesOf(() => b.quant4Linear!(dx, out, w, true));
    expect(bwd.map((l) => l.name)).toEqual(fwd.map((l) => l.name));
    expect(bwd[5]!.args).toMatchObject({ s: out.ptr + 4 * 8, ss: rows, w: 1 });
    expect(fake.fake_gemm_scalar(1)).toBe(1);
    // double-quantised scales and int8 rows
    const codes = t([(rows * cols) / 64 / 4], "i32");
    const nested = { absmax: t([Math.ceil((rows * cols) / 64 / 256)]), code: t([256]), offset: 0.5, blockSize: 256 };
    const dq = launchesOf(() => b.quant4Dequantize!(t([rows, cols]), { ...w, absmax: codes, nested }));
    expect(dq[0]!.args).toMatchObject({
      absmax_f32: 0,
      absmax_q: codes.ptr,
      nested_absmax: nested.absmax.ptr,
      nested_code: nested.code.ptr,
      offset: 0.5,
      nested_block: 256,
      e0: 0,
      count: rows * cols,
    });
    const q = t([(rows * cols) / 4], "i32");
    const scale = t([rows]);
    const i8 = launchesOf(() => b.int8Linear!(out, x, { rows, cols, q, rowScale: scale }, false));
    expect(i8.filter((l) => l.name === "lft_i8_decode").map((l) => [l.args.q, l.args.row_scale, l.args.cols, l.args.e0])).toEqual([
      [q.ptr, scale.ptr, cols, 0],
      [q.ptr, scale.ptr, cols, 4 * cols],
      [q.ptr, scale.ptr, cols, 8 * cols],
    ]);
    expect(() => b.quant4Linear!(out, x, { ...w, packed: t([7], "i32") }, false)).toThrow("packed weight holds");
  });

  test("validation happens before any launch: nothing reaches the driver for a bad call", () => {
    const x = t([4, 8]);
    const n0 = fake.fake_launch_count();
    expect(() => b.siluForward(t([4, 7]), x)).toThrow("out must have shape [4, 8]");
    expect(() => b.embeddingForward(t([2, 8]), t([10, 8]), t([2], "i32", Int32Array.of(3, 10)))).toThrow("ids[1] = 10 is out of range [0, 10)");
    expect(() => b.matmul(t([4, 4], "bf16"), x, t([8, 4]))).toThrow("out must be f32");
    expect(fake.fake_launch_count()).toBe(n0);
  });

  test("time() brackets queued work with events; synchronize() reaches the stream", () => {
    const s0 = fake.fake_sync_count();
    expect(b.time(() => {})).toBe(1.5);
    b.synchronize();
    expect(fake.fake_sync_count()).toBeGreaterThan(s0);
  });
});
