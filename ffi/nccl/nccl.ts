// NCCL (libnccl.so.2, as NVIDIA's wheels and CUDA images ship it) through bun:ffi, bound by symbol name:
// no header and no compiled shim. Every call's ncclResult_t is checked and named (ncclGetErrorString),
// counts and enums are checked before native code, and failures come back as Results.
//
// ncclCommInitRank takes its 128-byte ncclUniqueId *by value*, which bun:ffi cannot pass. Under the x86-64
// System V ABI a struct over 16 bytes is MEMORY class: the caller copies it onto the stack, where the 7th and
// later integer arguments go, and it takes no register. So the symbol is declared with (comm, nranks, rank)
// in rdi/rsi/rdx, three unused words for rcx/r8/r9, then the id's 16 words, which land on the stack exactly
// where the callee reads the struct. On AArch64 (AAPCS64) a struct over 16 bytes is passed as a pointer to
// a caller-made copy, so the id's address is passed in its place.
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";

const { ptr: P, i32, u64, cstring } = FFIType;

/** Bytes of an ncclUniqueId (NCCL_UNIQUE_ID_BYTES). */
export const UNIQUE_ID_BYTES = 128;

/** ncclDataType_t. */
export const NCCL_DTYPE = { i8: 0, u8: 1, i32: 2, u32: 3, i64: 4, u64: 5, f16: 6, f32: 7, f64: 8, bf16: 9 } as const;
export type NcclDType = keyof typeof NCCL_DTYPE;
/** ncclRedOp_t (avg since NCCL 2.10). */
export const NCCL_OP = { sum: 0, prod: 1, max: 2, min: 3, avg: 4 } as const;
export type NcclOp = keyof typeof NCCL_OP;
/** Element size of each dtype, for the size checks. */
export const NCCL_DTYPE_BYTES: Readonly<Record<NcclDType, number>> = { i8: 1, u8: 1, i32: 4, u32: 4, i64: 8, u64: 8, f16: 2, f32: 4, f64: 8, bf16: 2 };
/** ncclResult_t names, for messages when ncclGetErrorString has nothing better. */
const RESULT_NAMES = [
  "ncclSuccess",
  "ncclUnhandledCudaError",
  "ncclSystemError",
  "ncclInternalError",
  "ncclInvalidArgument",
  "ncclInvalidUsage",
  "ncclRemoteError",
  "ncclInProgress",
];

const STRUCT_BY_STACK = process.arch === "x64";
const INIT_ARGS = STRUCT_BY_STACK ? [P, i32, i32, u64, u64, u64, ...Array<FFIType>(UNIQUE_ID_BYTES / 8).fill(u64)] : [P, i32, P, i32];

/** Every NCCL entry point lft calls, with its bun:ffi types (comm and stream handles are pointers). */
export const NCCL_SYMBOLS = {
  ncclGetVersion: { args: [P], returns: i32 },
  ncclGetUniqueId: { args: [P], returns: i32 },
  ncclCommInitRank: { args: INIT_ARGS, returns: i32 },
  ncclAllReduce: { args: [u64, u64, u64, i32, i32, P, P], returns: i32 },
  ncclAllGather: { args: [u64, u64, u64, i32, P, P], returns: i32 },
  ncclReduceScatter: { args: [u64, u64, u64, i32, i32, P, P], returns: i32 },
  ncclBroadcast: { args: [u64, u64, u64, i32, i32, P, P], returns: i32 },
  ncclCommDestroy: { args: [P], returns: i32 },
  ncclCommAbort: { args: [P], returns: i32 },
  ncclCommGetAsyncError: { args: [P, P], returns: i32 },
  ncclGetErrorString: { args: [i32], returns: cstring },
} as const;

type NcclSymbols = ReturnType<typeof dlopen<typeof NCCL_SYMBOLS>>["symbols"];

/** A device buffer as NCCL sees it: its address, element count and dtype. */
export interface DeviceBuffer {
  readonly ptr: number;
  readonly count: number;
  readonly dtype: NcclDType;
}

/** The library, opened. Methods return Results naming the call and NCCL's reason. */
export class Nccl {
  constructor(
    readonly sym: NcclSymbols,
    readonly path: string,
  ) {}

  private fail(code: number, what: string): Error {
    let text = "";
    try {
      text = String(this.sym.ncclGetErrorString(code) ?? "");
    } catch {
      // an old library without it: the name below is enough
    }
    return new Error(`nccl: ${what} failed: ${RESULT_NAMES[code] ?? `ncclResult ${code}`} (${code})${text ? `: ${text}` : ""}`);
  }

  private check(code: number, what: string): Result<void, Error> {
    return code === 0 ? ok(undefined) : err(this.fail(code, what));
  }

  /** NCCL's version as major*10000 + minor*100 + patch (2.21.5 -> 22105). */
  version(): Result<number, Error> {
    const v = new Int32Array(1);
    return this.check(this.sym.ncclGetVersion(v), "ncclGetVersion").map(() => v[0]!);
  }

  /** A fresh unique id (rank 0 makes it; every rank needs the same bytes). */
  uniqueId(): Result<Uint8Array, Error> {
    const id = new Uint8Array(UNIQUE_ID_BYTES);
    return this.check(this.sym.ncclGetUniqueId(id), "ncclGetUniqueId").map(() => id);
  }

  /** A communicator of `size` ranks; blocks until every rank has called it with the same id. */
  initRank(size: number, id: Uint8Array, rank: number): Result<Pointer, Error> {
    if (!(Number.isInteger(size) && size >= 1 && size <= 65536)) return err(new Error(`nccl: world size must be an integer in [1, 65536], found ${size}`));
    if (!(Number.isInteger(rank) && rank >= 0 && rank < size)) return err(new Error(`nccl: rank must be an integer in [0, ${size}), found ${rank}`));
    if (id.byteLength !== UNIQUE_ID_BYTES) return err(new Error(`nccl: a unique id is ${UNIQUE_ID_BYTES} bytes, found ${id.byteLength}`));
    const comm = new BigUint64Array(1);
    const call = this.sym.ncclCommInitRank as unknown as (...a: unknown[]) => number;
    let code: number;
    if (STRUCT_BY_STACK) {
      const words = new BigUint64Array(id.slice().buffer);
      code = call(comm, size, rank, 0n, 0n, 0n, ...words);
    } else {
      code = call(comm, size, id.slice(), rank);
    }
    const r = this.check(code, `ncclCommInitRank(rank ${rank} of ${size})`);
    if (r.isErr()) return err(r.error);
    if (comm[0] === 0n) return err(new Error(`nccl: ncclCommInitRank(rank ${rank} of ${size}) returned no communicator`));
    return ok(Number(comm[0]) as Pointer);
  }

  allReduce(send: DeviceBuffer, recv: DeviceBuffer, op: NcclOp, comm: Pointer, stream: Pointer | null): Result<void, Error> {
    const bad = sameBuffers("ncclAllReduce", send, recv, 1) ?? checkOp(op);
    if (bad) return err(bad);
    return this.check(
      this.sym.ncclAllReduce(send.ptr, recv.ptr, send.count, NCCL_DTYPE[send.dtype], NCCL_OP[op], comm, stream),
      `ncclAllReduce(${send.count} ${send.dtype})`,
    );
  }

  /** recv holds `size` blocks of send.count elements, rank r's at block r. */
  allGather(send: DeviceBuffer, recv: DeviceBuffer, size: number, comm: Pointer, stream: Pointer | null): Result<void, Error> {
    const bad = sameBuffers("ncclAllGather", send, recv, size);
    if (bad) return err(bad);
    return this.check(
      this.sym.ncclAllGather(send.ptr, recv.ptr, send.count, NCCL_DTYPE[send.dtype], comm, stream),
      `ncclAllGather(${send.count} ${send.dtype} per rank)`,
    );
  }

  /** send holds `size` blocks of recv.count elements; rank r receives the reduction of block r. */
  reduceScatter(send: DeviceBuffer, recv: DeviceBuffer, op: NcclOp, size: number, comm: Pointer, stream: Pointer | null): Result<void, Error> {
    const bad = sameBuffers("ncclReduceScatter", recv, send, size) ?? checkOp(op);
    if (bad) return err(bad);
    return this.check(
      this.sym.ncclReduceScatter(send.ptr, recv.ptr, recv.count, NCCL_DTYPE[recv.dtype], NCCL_OP[op], comm, stream),
      `ncclReduceScatter(${recv.count} ${recv.dtype} per rank)`,
    );
  }

  broadcast(buf: DeviceBuffer, root: number, size: number, comm: Pointer, stream: Pointer | null): Result<void, Error> {
    const bad = sameBuffers("ncclBroadcast", buf, buf, 1);
    if (bad) return err(bad);
    if (!(Number.isInteger(root) && root >= 0 && root < size)) return err(new Error(`nccl: ncclBroadcast root must be a rank in [0, ${size}), found ${root}`));
    return this.check(
      this.sym.ncclBroadcast(buf.ptr, buf.ptr, buf.count, NCCL_DTYPE[buf.dtype], root, comm, stream),
      `ncclBroadcast(${buf.count} ${buf.dtype} from rank ${root})`,
    );
  }

  /** An error a peer or the network raised asynchronously (a dead rank), or ok. */
  asyncError(comm: Pointer): Result<void, Error> {
    const code = new Int32Array(1);
    const r = this.check(this.sym.ncclCommGetAsyncError(comm, code), "ncclCommGetAsyncError");
    if (r.isErr()) return r;
    return code[0] === 0 ? ok(undefined) : err(this.fail(code[0]!, "a collective (reported asynchronously)"));
  }

  destroy(comm: Pointer): Result<void, Error> {
    return this.check(this.sym.ncclCommDestroy(comm), "ncclCommDestroy");
  }

  /** Tears the communicator down without waiting for peers (a rank died, or the job is failing). */
  abort(comm: Pointer): Result<void, Error> {
    return this.check(this.sym.ncclCommAbort(comm), "ncclCommAbort");
  }
}

function checkOp(op: NcclOp): Error | null {
  return op in NCCL_OP ? null : new Error(`nccl: unknown reduction "${op}"; expected one of ${Object.keys(NCCL_OP).join(", ")}`);
}

/** `big` must hold `factor` times `small`'s elements, same dtype, both with real addresses and counts. */
function sameBuffers(what: string, small: DeviceBuffer, big: DeviceBuffer, factor: number): Error | null {
  for (const [name, b] of [
    ["send", small],
    ["recv", big],
  ] as const) {
    if (!(b.dtype in NCCL_DTYPE)) return new Error(`nccl: ${what}: ${name} dtype "${b.dtype}" has no NCCL type`);
    if (!(Number.isSafeInteger(b.count) && b.count >= 0)) return new Error(`nccl: ${what}: ${name} count must be an integer >= 0, found ${b.count}`);
    if (b.count > 0 && !(Number.isSafeInteger(b.ptr) && b.ptr > 0)) return new Error(`nccl: ${what}: ${name} buffer has no device address (${b.ptr})`);
  }
  if (small.dtype !== big.dtype) return new Error(`nccl: ${what}: buffers differ in dtype (${small.dtype} vs ${big.dtype})`);
  if (!(Number.isInteger(factor) && factor >= 1)) return new Error(`nccl: ${what}: world size must be an integer >= 1, found ${factor}`);
  if (big.count !== small.count * factor)
    return new Error(`nccl: ${what}: expected ${small.count * factor} elements (${small.count} x ${factor} ranks) in the larger buffer, found ${big.count}`);
  return null;
}

export const NCCL_NAMES = ["libnccl.so.2", "libnccl.so"] as const;

/** Folders searched before the system loader: LFT_NCCL_LIB's folder, LD_LIBRARY_PATH, CUDA_HOME, Python wheels (nvidia/nccl/lib). */
export function ncclCandidates(env: Readonly<Record<string, string | undefined>>): string[] {
  const dirs: string[] = [];
  for (const d of (env.LD_LIBRARY_PATH ?? "").split(":")) if (d) dirs.push(d);
  if (env.CUDA_HOME) dirs.push(join(env.CUDA_HOME, "lib64"));
  for (const root of [env.VIRTUAL_ENV, env.CONDA_PREFIX, "/usr/local", "/usr"].filter((r): r is string => !!r)) {
    const lib = join(root, "lib");
    let entries: string[] = [];
    try {
      entries = readdirSync(lib).filter((e) => e.startsWith("python3"));
    } catch {
      continue;
    }
    for (const py of entries) for (const pkgs of ["site-packages", "dist-packages"]) dirs.push(join(lib, py, pkgs, "nvidia/nccl/lib"));
  }
  const files = dirs.flatMap((d) => NCCL_NAMES.map((n) => join(d, n))).filter((f) => existsSync(f));
  return [...(env.LFT_NCCL_LIB ? [env.LFT_NCCL_LIB] : []), ...files];
}

/** Opens libnccl at `path` with every symbol lft uses (an error names the file and the missing symbol). */
export function openNcclAt(path: string): Result<Nccl, Error> {
  try {
    return ok(new Nccl(dlopen(path, NCCL_SYMBOLS).symbols, path));
  } catch (e) {
    return err(new Error(`nccl: ${path} could not be loaded: ${(e as Error).message}`));
  }
}

/** Finds and opens libnccl: LFT_NCCL_LIB, then the folders above, then the system loader's names. */
export function loadNccl(env: Readonly<Record<string, string | undefined>> = process.env): Result<Nccl, Error> {
  const failures: string[] = [];
  for (const path of [...ncclCandidates(env), ...NCCL_NAMES]) {
    const r = openNcclAt(path);
    if (r.isOk()) return r;
    failures.push(r.error.message);
    if (path === env.LFT_NCCL_LIB) break;
  }
  return err(
    new Error(
      `nccl: libnccl.so.2 could not be loaded (${failures.join("; ")}); install NCCL (the nvidia-nccl-cu12 wheel or a CUDA image) or set LFT_NCCL_LIB to the library's path`,
    ),
  );
}
