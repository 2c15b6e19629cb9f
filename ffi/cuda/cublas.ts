// cuBLAS (and cuBLASLt, which it links) through bun:ffi: one handle bound to our stream and workspace, and
// row-major GEMMs on column-major cuBLAS by the usual identity C^T = B^T A^T: the row-major C [m, n] is the
// column-major C^T [n, m], so cuBLAS is asked for op(B)^T op(A)^T with the operands swapped. bf16 or f32
// inputs, f32 accumulation (CUBLAS_COMPUTE_32F: no TF32 unless asked), strided batches.
import { CString, dlopen, FFIType, type Pointer } from "bun:ffi";
import { basename, dirname, join } from "node:path";
import { describeMissing, type LoadAttempt, type Located, locate, searchDirs } from "./locate.ts";

const { ptr: P, i32, i64, u64 } = FFIType;

/** Every cuBLAS entry point lft calls, with its bun:ffi types. */
export const SYMBOLS = {
  cublasCreate_v2: { args: [P], returns: i32 },
  cublasDestroy_v2: { args: [P], returns: i32 },
  cublasGetVersion_v2: { args: [P, P], returns: i32 },
  cublasSetStream_v2: { args: [P, P], returns: i32 },
  cublasSetWorkspace_v2: { args: [P, u64, u64], returns: i32 },
  cublasSetMathMode: { args: [P, i32], returns: i32 },
  // handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb, strideB, beta, C, Ctype, ldc, strideC, batch, compute, algo
  cublasGemmStridedBatchedEx: {
    args: [P, i32, i32, i32, i32, i32, P, u64, i32, i32, i64, u64, i32, i32, i64, P, u64, i32, i32, i64, i32, i32, i32],
    returns: i32,
  },
} as const;

export const CUBLAS_OP = { N: 0, T: 1 } as const;
export const CUDA_DATA_TYPE = { f32: 0, f16: 2, bf16: 14 } as const;
export const CUBLAS_COMPUTE = { f32: 68, f32FastTf32: 77 } as const;
const CUBLAS_GEMM_DEFAULT = -1;
const CUBLAS_DEFAULT_MATH = 0;

const STATUS: Record<number, string> = {
  0: "CUBLAS_STATUS_SUCCESS",
  1: "CUBLAS_STATUS_NOT_INITIALIZED",
  3: "CUBLAS_STATUS_ALLOC_FAILED",
  7: "CUBLAS_STATUS_INVALID_VALUE",
  8: "CUBLAS_STATUS_ARCH_MISMATCH",
  11: "CUBLAS_STATUS_MAPPING_ERROR",
  13: "CUBLAS_STATUS_EXECUTION_FAILED",
  14: "CUBLAS_STATUS_INTERNAL_ERROR",
  15: "CUBLAS_STATUS_NOT_SUPPORTED",
  16: "CUBLAS_STATUS_LICENSE_ERROR",
};

export class CublasError extends Error {
  override name = "CublasError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** A row-major batched GEMM: C[b] (m x n) = alpha op(A[b]) (m x k) op(B[b]) (k x n) + beta C[b]; strides in elements. */
export interface RowMajorGemm {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly batch: number;
  readonly strideA: number;
  /** 0: B is shared by every batch. */
  readonly strideB: number;
  readonly strideC: number;
}

/** The column-major cuBLAS call computing a RowMajorGemm: its "A" operand is our B and its "B" is our A. */
export interface ColumnMajorCall {
  readonly transa: number;
  readonly transb: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Leading dimension and batch stride of cuBLAS's A (our B). */
  readonly lda: number;
  readonly strideA: number;
  /** Leading dimension and batch stride of cuBLAS's B (our A). */
  readonly ldb: number;
  readonly strideB: number;
  readonly ldc: number;
  readonly strideC: number;
  readonly batch: number;
}

const INT_MAX = 2 ** 31 - 1;

/**
 * Row-major -> column-major. A batch whose B is shared and whose A is not transposed folds into one tall
 * GEMM (batch * m rows), as the CPU kernel does: one large GEMM runs faster than many small ones.
 */
export function columnMajorCall(g: RowMajorGemm): ColumnMajorCall {
  let { m, batch, strideA, strideC } = g;
  if (batch > 1 && g.strideB === 0 && !g.transA && strideA === m * g.k && strideC === m * g.n) {
    m *= batch;
    batch = 1;
    strideA = m * g.k;
    strideC = m * g.n;
  }
  const call: ColumnMajorCall = {
    transa: g.transB ? CUBLAS_OP.T : CUBLAS_OP.N,
    transb: g.transA ? CUBLAS_OP.T : CUBLAS_OP.N,
    m: g.n,
    n: m,
    k: g.k,
    lda: g.transB ? g.k : g.n,
    strideA: g.strideB,
    ldb: g.transA ? m : g.k,
    strideB: strideA,
    ldc: g.n,
    strideC,
    batch,
  };
  for (const [what, v] of [
    ["m", call.m],
    ["n", call.n],
    ["k", call.k],
    ["lda", call.lda],
    ["ldb", call.ldb],
    ["ldc", call.ldc],
    ["batch", call.batch],
  ] as const) {
    if (v > INT_MAX) throw new RangeError(`matmul: ${what} = ${v} exceeds cuBLAS's 32-bit limit`);
  }
  // cuBLAS rejects a leading dimension of 0 even for an empty operand
  return { ...call, lda: Math.max(1, call.lda), ldb: Math.max(1, call.ldb), ldc: Math.max(1, call.ldc) };
}

type CublasSymbols = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

export type GemmDType = keyof typeof CUDA_DATA_TYPE;

export class Cublas {
  private handle: Pointer | null = null;
  private readonly alpha = new Float32Array(1);
  private readonly beta = new Float32Array(1);

  constructor(
    private readonly sym: CublasSymbols,
    readonly path: string,
    readonly ltPath: string | null,
    private readonly statusName: ((s: number) => string) | null,
  ) {}

  private check(status: number, what: string): void {
    if (status === 0) return;
    const name = this.statusName?.(status) || STATUS[status] || `cublasStatus ${status}`;
    throw new CublasError(`${what} failed: ${name} (${status})`, status);
  }

  /** Creates the handle in the current context, bound to `stream` with a workspace we own. */
  init(stream: Pointer | null, workspace: number, workspaceBytes: number): void {
    const h = new BigUint64Array(1);
    this.check(this.sym.cublasCreate_v2(h), "cublasCreate");
    this.handle = Number(h[0]) as Pointer;
    this.check(this.sym.cublasSetStream_v2(this.handle, stream), "cublasSetStream");
    this.check(this.sym.cublasSetWorkspace_v2(this.handle, workspace, workspaceBytes), "cublasSetWorkspace");
    this.check(this.sym.cublasSetMathMode(this.handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  }

  version(): number {
    const v = new Int32Array(1);
    this.check(this.sym.cublasGetVersion_v2(this.handle, v), "cublasGetVersion");
    return v[0]!;
  }

  destroy(): void {
    if (this.handle) this.check(this.sym.cublasDestroy_v2(this.handle), "cublasDestroy");
    this.handle = null;
  }

  /** Row-major GEMM on device pointers; ab is the dtype of A and B, c that of C; f32 accumulation. */
  gemm(g: RowMajorGemm, a: number, b: number, c: number, ab: GemmDType, cType: GemmDType, alpha: number, beta: number, tf32 = false): void {
    if (!this.handle) throw new Error("cuBLAS handle is not initialised");
    const call = columnMajorCall(g);
    this.alpha[0] = alpha;
    this.beta[0] = beta;
    const compute = tf32 && ab === "f32" ? CUBLAS_COMPUTE.f32FastTf32 : CUBLAS_COMPUTE.f32;
    const t = CUDA_DATA_TYPE[ab];
    this.check(
      this.sym.cublasGemmStridedBatchedEx(
        this.handle,
        call.transa,
        call.transb,
        call.m,
        call.n,
        call.k,
        this.alpha,
        b,
        t,
        call.lda,
        call.strideA,
        a,
        t,
        call.ldb,
        call.strideB,
        this.beta,
        c,
        CUDA_DATA_TYPE[cType],
        call.ldc,
        call.strideC,
        call.batch,
        compute,
        CUBLAS_GEMM_DEFAULT,
      ),
      `cublasGemmStridedBatchedEx(m=${g.m} n=${g.n} k=${g.k} batch=${g.batch} ${ab}->${cType})`,
    );
  }
}

export const CUBLAS_NAMES = ["libcublas.so.13", "libcublas.so.12", "libcublas.so"] as const;
const LT_FOR: Record<string, string> = { "libcublas.so.13": "libcublasLt.so.13", "libcublas.so.12": "libcublasLt.so.12", "libcublas.so": "libcublasLt.so" };

export type CublasLoad = { ok: true; cublas: Cublas; path: string; ltPath: string | null; ltVersion: number | null } | { ok: false; reason: string };

/** Where libcublas can be found (for the probe, without opening it). */
export function locateCublas(env: Readonly<Record<string, string | undefined>> = process.env): Located {
  return locate(CUBLAS_NAMES, searchDirs(env));
}

/** Opens libcublas at `path` with every symbol lft uses (throws if one is missing). */
export function openCublasAt(path: string, ltPath: string | null = null): Cublas {
  const lib = dlopen(path, SYMBOLS);
  let statusName: ((s: number) => string) | null = null;
  try {
    const s = dlopen(path, { cublasGetStatusName: { args: [i32], returns: P } });
    statusName = (code: number) => {
      const q = s.symbols.cublasGetStatusName(code);
      return q ? new CString(q).toString() : "";
    };
  } catch {
    // cuBLAS before 11.4 has no cublasGetStatusName: fall back to our table
  }
  return new Cublas(lib.symbols, path, ltPath, statusName);
}

/** Opens cuBLAS: cuBLASLt from the same folder first (so libcublas's dependency resolves to it), then cuBLAS. */
export function loadCublas(env: Readonly<Record<string, string | undefined>> = process.env): CublasLoad {
  const located = locateCublas(env);
  const failures: LoadAttempt[] = [];
  for (const path of [...located.candidates, ...CUBLAS_NAMES]) {
    const ltName = LT_FOR[basename(path)] ?? "libcublasLt.so";
    const ltPath = path.includes("/") ? join(dirname(path), ltName) : ltName;
    let ltVersion: number | null = null;
    let ltLoaded: string | null = null;
    try {
      const lt = dlopen(ltPath, { cublasLtGetVersion: { args: [], returns: u64 } });
      ltVersion = Number(lt.symbols.cublasLtGetVersion());
      ltLoaded = ltPath;
    } catch {
      // libcublas may still resolve its cuBLASLt through its own RUNPATH; the error below will say if not
    }
    try {
      return { ok: true, cublas: openCublasAt(path, ltLoaded), path, ltPath: ltLoaded, ltVersion };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (!path.includes("/") && /cannot open shared object file|No such file/i.test(msg)) continue;
      failures.push({ path, error: msg.split("\n")[0]! });
    }
  }
  return { ok: false, reason: describeMissing("cuBLAS", CUBLAS_NAMES, located, failures) };
}
