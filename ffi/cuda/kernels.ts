// Every kernel in ffi/cuda/build/lft_cuda.fatbin with its parameter types, in one table (the CUDA analogue
// of ffi/cpu/cpu.ts's SYMBOLS), and the loaded module that launches them by name. test/cuda checks this
// table against the parameter layout nvcc recorded in the fatbin, so a signature drift fails in CI
// without a GPU.
import type { Pointer } from "bun:ffi";
import { join } from "node:path";
import type { ArgType, ArgValue } from "./args.ts";
import type { CudaDriver } from "./driver.ts";

export const FATBIN_PATH = join(import.meta.dir, "build", "lft_cuda.fatbin");

const p = "ptr" as const;
const i64 = "i64" as const;
const i32 = "i32" as const;
const f32 = "f32" as const;
const u64 = "u64" as const;
const ptrs = (n: number) => Array.from({ length: n }, () => p);

/** The float storage types our kernels come in: name suffix _f32 or _bf16. */
export const FLOAT_SUFFIXES = ["f32", "bf16"] as const;
export type FloatSuffix = (typeof FLOAT_SUFFIXES)[number];
/** Head-dim classes of the attention kernels: dims per lane, D <= 32 * DPL. */
export const ATTENTION_DPL = [1, 2, 4, 8] as const;

/** Kernels that exist once per float storage type. */
const PER_FLOAT: Record<string, readonly ArgType[]> = {
  binary_fwd: [i32, ...ptrs(3), i64, i64],
  binary_bwd_da: [i32, ...ptrs(3), i64, i64],
  binary_bwd_db: [i32, ...ptrs(4), i64, i64],
  scale: [p, p, f32, i64],
  axpy: [p, p, f32, i64],
  reduce_partial: [p, p, i64, i32],
  count_nonfinite: [p, p, i64],
  sum_rows: [p, p, i64, i64],
  expand_rows: [p, p, f32, i64, i64],
  silu_fwd: [p, p, i64],
  silu_bwd: [...ptrs(3), i64],
  gelu_tanh_fwd: [p, p, i64],
  gelu_tanh_bwd: [...ptrs(3), i64],
  tanh_fwd: [p, p, f32, i64],
  tanh_bwd: [...ptrs(3), f32, i64],
  clamp_fwd: [p, p, f32, f32, i64],
  clamp_bwd: [...ptrs(3), f32, f32, i64],
  swiglu_fwd: [...ptrs(3), i64],
  swiglu_bwd: [...ptrs(5), i64],
  softmax_fwd: [p, p, i64],
  softmax_bwd: [...ptrs(3), i64],
  rmsnorm_fwd: [...ptrs(4), i64, f32, f32],
  rmsnorm_bwd_dx: [...ptrs(5), i64, f32],
  layernorm_fwd: [...ptrs(6), i64, f32],
  layernorm_bwd_dx: [...ptrs(6), i64],
  norm_wgrad_partial: [...ptrs(6), i64, i64, i64],
  norm_wgrad_final: [...ptrs(4), i64, i64],
  rope: [...ptrs(4), i64, i64, i64, f32],
  attention_bwd_dot: [...ptrs(3), i64, i64, i64, i32],
  cross_entropy_fwd: [...ptrs(4), i64, i32],
  cross_entropy_bwd: [...ptrs(5), i64, i32, i64],
  embedding_fwd: [...ptrs(3), i64, i64],
  embedding_bwd: [...ptrs(5), i64],
  dropout: [p, p, i64, f32, u64, u64],
  nf4_dequant: [...ptrs(3), i64, i64],
  nf4_quant: [...ptrs(3), i64, i64],
};

const ATT_TAIL: readonly ArgType[] = [i64, i64, i64, i64, i32, f32, i64, f32]; // Tq, Tk, Hq, Hkv, D, scale, window, softcap
const PER_ATTENTION: Record<string, readonly ArgType[]> = {
  attention_fwd: [...ptrs(6), ...ATT_TAIL, p], // ..., sinks
  attention_bwd_dq: [...ptrs(8), ...ATT_TAIL],
  attention_bwd_dkdv: [...ptrs(9), ...ATT_TAIL],
};

/** 128-byte PermuteDims {i64 out_shape[8]; i64 in_step[8]} passed by value. */
export const PERMUTE_DIMS = { struct: 128, align: 8 } as const;

const SINGLE: Record<string, readonly ArgType[]> = {
  lft_copy_rows_u8: [p, i64, p, i64, i64, i64],
  lft_copy_rows_u32: [p, i64, p, i64, i64, i64],
  lft_copy_rows_u128: [p, i64, p, i64, i64, i64],
  lft_permute_4b: [p, p, i32, PERMUTE_DIMS, i64],
  lft_permute_2b: [p, p, i32, PERMUTE_DIMS, i64],
  lft_f32_to_bf16: [p, p, i64],
  lft_bf16_to_f32: [p, p, i64],
  lft_f32_to_f16: [p, p, i64],
  lft_f16_to_f32: [p, p, i64],
  lft_i32_to_f32: [p, p, i64],
  lft_reduce_final: [p, p, i32],
  lft_philox_u32: [p, i64, u64, u64],
  lft_rand_uniform: [p, i64, u64, u64],
  lft_rand_normal: [p, i64, u64, u64, f32, f32],
  lft_adamw_multi: [p, f32, f32, f32, f32, f32, f32, f32, p],
  lft_q4_decode: [p, p, p, p, p, p, p, f32, i64, i64, i64, i64],
  lft_i8_decode: [p, p, p, i64, i64, i64],
  lft_attention_bwd_sinks: [...ptrs(4), i64, i64, i64],
};

function buildTable(): ReadonlyMap<string, readonly ArgType[]> {
  const t = new Map<string, readonly ArgType[]>(Object.entries(SINGLE));
  for (const sfx of FLOAT_SUFFIXES) {
    for (const [base, args] of Object.entries(PER_FLOAT)) t.set(`lft_${base}_${sfx}`, args);
    for (const dpl of ATTENTION_DPL) for (const [base, args] of Object.entries(PER_ATTENTION)) t.set(`lft_${base}_d${dpl}_${sfx}`, args);
  }
  return t;
}

/** Kernel name -> parameter types, for every kernel lft launches. */
export const KERNELS: ReadonlyMap<string, readonly ArgType[]> = buildTable();

export type Dim3 = readonly [number, number, number];

/** The fatbin loaded into the current context: functions resolved on first use, launches checked against KERNELS. */
export class KernelModule {
  private readonly fns = new Map<string, Pointer>();
  private readonly sharedSet = new Map<string, number>();

  constructor(
    private readonly driver: CudaDriver,
    readonly module: Pointer,
    private readonly stream: () => Pointer | null,
    private readonly maxSharedOptin: number,
  ) {}

  private fn(name: string): Pointer {
    let f = this.fns.get(name);
    if (f === undefined) {
      f = this.driver.getFunction(this.module, name);
      this.fns.set(name, f);
    }
    return f;
  }

  /**
   * Launches `name` with grid/block dims and dynamic shared memory. A grid with a zero dimension is no work
   * and launches nothing (callers size grids from tensor sizes, which may be 0).
   */
  launch(name: string, grid: Dim3, block: Dim3, sharedBytes: number, ...args: ArgValue[]): void {
    const types = KERNELS.get(name);
    if (!types) throw new Error(`cuda: no kernel named ${name} in the kernel table`);
    if (grid.some((g) => g === 0)) return;
    for (const [what, d, max] of [
      ["grid x", grid[0], 2 ** 31 - 1],
      ["grid y", grid[1], 65535],
      ["grid z", grid[2], 65535],
    ] as const) {
      if (!Number.isInteger(d) || d < 0 || d > max) throw new RangeError(`cuda: ${name}: ${what} = ${d} is outside [0, ${max}]`);
    }
    const f = this.fn(name);
    if (sharedBytes > 48 * 1024) {
      if (sharedBytes > this.maxSharedOptin) {
        throw new RangeError(`cuda: ${name} needs ${sharedBytes} bytes of shared memory; this device allows ${this.maxSharedOptin}`);
      }
      if ((this.sharedSet.get(name) ?? 0) < sharedBytes) {
        this.driver.setMaxDynamicShared(f, sharedBytes, name);
        this.sharedSet.set(name, sharedBytes);
      }
    }
    this.driver.launch(f, name, grid, block, sharedBytes, this.stream(), types, args);
  }
}
