// The CPU kernel library ffi/cpu/build/liblft_cpu.so: every native symbol with its types, loaded once
// after choosing OpenBLAS's kernels (blas-select.ts), plus the two calls that are not Backend methods
// (LAPACK's SVD, the BLAS report). cpu.ts builds the Backend on these symbols.
import { dlopen, FFIType } from "bun:ffi";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import type { BlasInfo, NativeSvdResult } from "../../core/index.ts";
import { chooseBlasCore, probeBlasCore, readCpuFlags } from "./blas-select.ts";

const { ptr: P, i64, i32, f32, f64, u64, void: V, cstring } = FFIType;

const SYMBOLS = {
  lft_alloc: { args: [i64], returns: P },
  lft_free: { args: [P], returns: V },
  lft_copy_bytes: { args: [P, P, i64], returns: V },
  lft_fill_f32: { args: [P, i64, f32], returns: V },
  lft_fill_i32: { args: [P, i64, i32], returns: V },
  lft_copy_rows: { args: [P, i64, P, i64, i64, i64], returns: V },
  lft_permute_4b: { args: [P, P, i32, P, P], returns: V },
  lft_num_threads: { args: [], returns: i32 },
  lft_set_num_threads: { args: [i32], returns: V },
  lft_f32_to_bf16: { args: [P, P, i64], returns: V },
  lft_bf16_to_f32: { args: [P, P, i64], returns: V },
  lft_f32_to_f16: { args: [P, P, i64], returns: V },
  lft_f16_to_f32: { args: [P, P, i64], returns: V },
  lft_i32_to_f32: { args: [P, P, i64], returns: V },
  lft_matmul: { args: [P, P, P, i64, i64, i64, i64, i32, i32, i64, i64, i64, f32, f32], returns: V },
  lft_blas_corename: { args: [], returns: cstring },
  lft_blas_config: { args: [], returns: cstring },
  lft_blas_num_threads: { args: [], returns: i32 },
  lft_binary_fwd: { args: [i32, P, P, P, i64, i64], returns: V },
  lft_binary_bwd: { args: [i32, P, P, P, P, P, i64, i64], returns: V },
  lft_scale: { args: [P, P, f32, i64], returns: V },
  lft_axpy: { args: [P, P, f32, i64], returns: V },
  lft_sum: { args: [P, i64], returns: f64 },
  lft_sum_squares: { args: [P, i64], returns: f64 },
  lft_count_nonfinite_32: { args: [P, i64], returns: i64 },
  lft_count_nonfinite_16: { args: [P, i64, FFIType.u16], returns: i64 },
  lft_sum_rows: { args: [P, P, i64, i64], returns: V },
  lft_expand_rows: { args: [P, P, f32, i64, i64], returns: V },
  lft_silu_fwd: { args: [P, P, i64], returns: V },
  lft_silu_bwd: { args: [P, P, P, i64], returns: V },
  lft_gelu_tanh_fwd: { args: [P, P, i64], returns: V },
  lft_gelu_tanh_bwd: { args: [P, P, P, i64], returns: V },
  lft_tanh_fwd: { args: [P, P, f32, i64], returns: V },
  lft_tanh_bwd: { args: [P, P, P, f32, i64], returns: V },
  lft_clamp_fwd: { args: [P, P, f32, f32, i64], returns: V },
  lft_clamp_bwd: { args: [P, P, P, f32, f32, i64], returns: V },
  lft_swiglu_fwd: { args: [P, P, P, i64], returns: V },
  lft_swiglu_bwd: { args: [P, P, P, P, P, i64], returns: V },
  lft_softmax_fwd: { args: [P, P, i64, i64], returns: V },
  lft_softmax_bwd: { args: [P, P, P, i64, i64], returns: V },
  lft_rmsnorm_fwd: { args: [P, P, P, P, i64, i64, f32, f32], returns: V },
  lft_rmsnorm_bwd: { args: [P, P, P, P, P, P, i64, i64, f32], returns: V },
  lft_layernorm_fwd: { args: [P, P, P, P, P, P, i64, i64, f32], returns: V },
  lft_layernorm_bwd: { args: [P, P, P, P, P, P, P, P, i64, i64], returns: V },
  lft_rope: { args: [P, P, P, P, i64, i64, i64, i64, i64, f32], returns: i32 },
  lft_attention_fwd: { args: [P, P, P, P, P, P, i64, i64, i64, i64, i64, i64, f32, i64, f32, P], returns: i32 },
  lft_attention_bwd: { args: [P, P, P, P, P, P, P, P, P, P, i64, i64, i64, i64, i64, i64, f32, i64, f32, P, P], returns: i32 },
  lft_cross_entropy_fwd: { args: [P, P, P, P, i64, i64, i32], returns: V },
  lft_cross_entropy_bwd: { args: [P, P, P, P, P, i64, i64, i32], returns: V },
  lft_cross_entropy_fused: { args: [P, P, P, P, P, P, i64, i64, i32], returns: V },
  lft_embedding_fwd: { args: [P, P, P, i64, i64], returns: V },
  lft_embedding_bwd: { args: [P, P, P, i64, i64], returns: V },
  lft_philox_u32: { args: [P, i64, u64, u64], returns: V },
  lft_rand_uniform: { args: [P, i64, u64, u64], returns: V },
  lft_rand_normal: { args: [P, i64, u64, u64, f32, f32], returns: V },
  lft_dropout: { args: [P, P, i64, f32, u64, u64], returns: V },
  lft_adamw_step: { args: [P, P, P, P, i64, f32, f32, f32, f32, f32, f32, f32], returns: i64 },
  lft_svd_f32: { args: [i64, i64, P, P, P, P], returns: i32 },
  lft_q4_matmul: { args: [P, P, P, P, P, P, P, P, f32, i64, i64, i64, i64, i64, i32], returns: i32 },
  lft_q4_dequant: { args: [P, P, P, P, P, P, P, f32, i64, i64, i64, i64], returns: V },
  lft_i8_matmul: { args: [P, P, P, P, i64, i64, i64, i32], returns: i32 },
  lft_half_matmul: { args: [P, P, P, i64, i64, i64, i32], returns: i32 },
  lft_i8_dequant: { args: [P, P, P, i64, i64], returns: V },
} as const;

export const LIB_DIR = join(import.meta.dir, "build");
export const LIB_PATH = join(LIB_DIR, "liblft_cpu.so");
const PROBE_PATH = join(LIB_DIR, "blas_probe");

/** Sets OPENBLAS_CORETYPE in the C environment (process.env is not seen by a library loaded later). */
function setNativeEnv(name: string, value: string): void {
  const libc = dlopen("libc.so.6", { setenv: { args: [P, P, i32], returns: i32 } });
  libc.symbols.setenv(Buffer.from(`${name}\0`), Buffer.from(`${value}\0`), 1);
  libc.close();
}

function loadLibrary() {
  if (!existsSync(LIB_PATH)) {
    throw new Error(`lft: the CPU kernel library is not built (${LIB_PATH} is missing); run \`make ffi\` in the repository root`);
  }
  const override = process.env.LFT_BLAS_CORETYPE || process.env.OPENBLAS_CORETYPE || null;
  const choice = chooseBlasCore(readCpuFlags(), override ? null : probeBlasCore(PROBE_PATH), override);
  if (choice instanceof Error) throw choice;
  if (choice.coretype) setNativeEnv("OPENBLAS_CORETYPE", choice.coretype);
  // OpenMP threads spin for ~ms after each parallel region by default, stealing the cores OpenBLAS's own
  // threads need for the next GEMM (measured here: 1024³ GEMM at ~80 vs ~150 GFLOP/s). Sleep instead,
  // unless the user chose a policy.
  if (!process.env.OMP_WAIT_POLICY) setNativeEnv("OMP_WAIT_POLICY", "passive");
  // OpenBLAS's own threads spin (sched_yield) for 2^28 cycles after each GEMM, so between GEMMs they take
  // cores from lft's OpenMP kernels (attention, norms, the loss). 2^4 cycles: they sleep at once and the
  // next GEMM wakes them (measured here: the 22M step 3-8% faster in wall time, decode unchanged).
  if (!process.env.OPENBLAS_THREAD_TIMEOUT) setNativeEnv("OPENBLAS_THREAD_TIMEOUT", "4");
  const lib = dlopen(LIB_PATH, SYMBOLS);
  return { native: lib.symbols, reason: choice.reason };
}

const loaded = loadLibrary();
/** Raw symbols, for benchmarks that compare against a direct native call. Everything else uses cpuBackend. */
export const native = loaded.native;

/**
 * Thin SVD of the row-major [m, n] f32 matrix `a` through LAPACK's sgesdd (OpenBLAS); sizes are
 * checked here so C never sees a bad one. Installed as core's native SVD (setNativeSvd) at start-up.
 */
export function cpuSvd(a: Float32Array, m: number, n: number): Result<NativeSvdResult, Error> {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m <= 0 || n <= 0) return err(new Error(`svd: sizes must be positive integers, found [${m}, ${n}]`));
  if (m * n > 0x7fffffff) return err(new Error(`svd: [${m}, ${n}] is too large for LAPACK's 32-bit sizes`));
  if (a.length !== m * n) return err(new Error(`svd: the matrix has ${a.length} values but [${m}, ${n}] needs ${m * n}`));
  const k = Math.min(m, n);
  const s = new Float32Array(k);
  const u = new Float32Array(m * k);
  const vt = new Float32Array(k * n);
  const info = native.lft_svd_f32(m, n, a, s, u, vt);
  if (info !== 0) return err(new Error(`svd: sgesdd failed on [${m}, ${n}] (info ${info}${info > 0 ? ": did not converge" : ""})`));
  return ok({ k, s, u, vt });
}

export function blasInfo(): BlasInfo {
  return {
    corename: String(native.lft_blas_corename()),
    config: String(native.lft_blas_config()),
    threads: native.lft_blas_num_threads(),
    reason: loaded.reason,
  };
}
