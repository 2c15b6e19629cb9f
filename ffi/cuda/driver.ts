// The CUDA driver API (libcuda.so.1) through bun:ffi: initialisation, device query, the primary context,
// streams, events, device memory, copies, modules and kernel launches. Every call's CUresult is checked and
// reported by name (cuGetErrorName). Nothing loads at import: loadDriver() finds and opens the library and
// says which file it loaded, or why none could be.
import { CString, dlopen, FFIType, type Pointer, ptr } from "bun:ffi";
import { type ArgType, type ArgValue, encodeArgs, layoutArgs } from "./args.ts";
import { type Loaded, loadFirst, locate, searchDirs } from "./locate.ts";

const { ptr: P, i32, u32, u64, u16, u8 } = FFIType;

/** Every driver entry point lft calls, with its bun:ffi types. */
export const SYMBOLS = {
  cuInit: { args: [u32], returns: i32 },
  cuDriverGetVersion: { args: [P], returns: i32 },
  cuGetErrorName: { args: [i32, P], returns: i32 },
  cuGetErrorString: { args: [i32, P], returns: i32 },
  cuDeviceGetCount: { args: [P], returns: i32 },
  cuDeviceGet: { args: [P, i32], returns: i32 },
  cuDeviceGetName: { args: [P, i32, i32], returns: i32 },
  cuDeviceGetAttribute: { args: [P, i32, i32], returns: i32 },
  cuDeviceTotalMem_v2: { args: [P, i32], returns: i32 },
  cuDevicePrimaryCtxRetain: { args: [P, i32], returns: i32 },
  cuDevicePrimaryCtxRelease_v2: { args: [i32], returns: i32 },
  cuCtxSetCurrent: { args: [P], returns: i32 },
  cuCtxSynchronize: { args: [], returns: i32 },
  cuMemGetInfo_v2: { args: [P, P], returns: i32 },
  cuStreamCreate: { args: [P, u32], returns: i32 },
  cuStreamDestroy_v2: { args: [P], returns: i32 },
  cuStreamSynchronize: { args: [P], returns: i32 },
  cuEventCreate: { args: [P, u32], returns: i32 },
  cuEventDestroy_v2: { args: [P], returns: i32 },
  cuEventRecord: { args: [P, P], returns: i32 },
  cuEventSynchronize: { args: [P], returns: i32 },
  cuMemAlloc_v2: { args: [P, u64], returns: i32 },
  cuMemFree_v2: { args: [u64], returns: i32 },
  cuMemcpyHtoDAsync_v2: { args: [u64, P, u64, P], returns: i32 },
  cuMemcpyDtoHAsync_v2: { args: [P, u64, u64, P], returns: i32 },
  cuMemcpyDtoDAsync_v2: { args: [u64, u64, u64, P], returns: i32 },
  cuMemsetD8Async: { args: [u64, u8, u64, P], returns: i32 },
  cuMemsetD16Async: { args: [u64, u16, u64, P], returns: i32 },
  cuMemsetD32Async: { args: [u64, u32, u64, P], returns: i32 },
  cuModuleLoadData: { args: [P, P], returns: i32 },
  cuModuleUnload: { args: [P], returns: i32 },
  cuModuleGetFunction: { args: [P, P, P], returns: i32 },
  cuFuncSetAttribute: { args: [P, i32, i32], returns: i32 },
  cuLaunchKernel: { args: [P, u32, u32, u32, u32, u32, u32, u32, P, P, P], returns: i32 },
} as const;

// Drivers before CUDA 12.8 export only the first name, CUDA 13 headers map to the second.
const ELAPSED = ["cuEventElapsedTime_v2", "cuEventElapsedTime"] as const;

export const CU_DEVICE_ATTRIBUTE = {
  MAX_SHARED_MEMORY_PER_BLOCK: 8,
  MULTIPROCESSOR_COUNT: 16,
  COMPUTE_CAPABILITY_MAJOR: 75,
  COMPUTE_CAPABILITY_MINOR: 76,
  MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: 97,
} as const;
const CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
const CUDA_ERROR_OUT_OF_MEMORY = 2;

/** A failed driver call: `code` is the CUresult, `cuName` its symbolic name (CUDA_ERROR_...). */
export class CudaError extends Error {
  override name = "CudaError";
  constructor(
    message: string,
    readonly code: number,
    readonly cuName: string,
  ) {
    super(message);
  }
}

type DriverSymbols = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

export interface DeviceInfo {
  readonly ordinal: number;
  readonly name: string;
  readonly computeCapability: readonly [number, number];
  readonly multiprocessors: number;
  readonly totalBytes: number;
  /** Largest dynamic shared memory a kernel may opt in to. */
  readonly maxSharedOptin: number;
}

/** The driver library, opened. Methods throw CudaError with the call and the error's name. */
export class CudaDriver {
  private readonly argBuf = new Uint8Array(8192);

  constructor(
    readonly sym: DriverSymbols,
    readonly path: string,
    private readonly elapsedFn: ((ms: Float32Array, a: Pointer, b: Pointer) => number) | null,
  ) {}

  errorName(code: number): string {
    const out = new BigUint64Array(1);
    if (this.sym.cuGetErrorName(code, out) !== 0 || out[0] === 0n) return `CUresult ${code}`;
    return new CString(Number(out[0]) as Pointer).toString();
  }

  errorString(code: number): string {
    const out = new BigUint64Array(1);
    if (this.sym.cuGetErrorString(code, out) !== 0 || out[0] === 0n) return "";
    return new CString(Number(out[0]) as Pointer).toString();
  }

  check(code: number, what: string): void {
    if (code === 0) return;
    const name = this.errorName(code);
    const detail = this.errorString(code);
    throw new CudaError(`${what} failed: ${name} (${code})${detail ? `: ${detail}` : ""}`, code, name);
  }

  init(): void {
    this.check(this.sym.cuInit(0), "cuInit");
  }

  version(): number {
    const v = new Int32Array(1);
    this.check(this.sym.cuDriverGetVersion(v), "cuDriverGetVersion");
    return v[0]!;
  }

  deviceCount(): number {
    const n = new Int32Array(1);
    this.check(this.sym.cuDeviceGetCount(n), "cuDeviceGetCount");
    return n[0]!;
  }

  device(ordinal: number): number {
    const d = new Int32Array(1);
    this.check(this.sym.cuDeviceGet(d, ordinal), `cuDeviceGet(${ordinal})`);
    return d[0]!;
  }

  attribute(dev: number, attr: number): number {
    const v = new Int32Array(1);
    this.check(this.sym.cuDeviceGetAttribute(v, attr, dev), `cuDeviceGetAttribute(${attr})`);
    return v[0]!;
  }

  deviceInfo(ordinal: number): DeviceInfo {
    const dev = this.device(ordinal);
    const name = new Uint8Array(256);
    this.check(this.sym.cuDeviceGetName(name, name.length, dev), "cuDeviceGetName");
    const total = new BigUint64Array(1);
    this.check(this.sym.cuDeviceTotalMem_v2(total, dev), "cuDeviceTotalMem");
    const A = CU_DEVICE_ATTRIBUTE;
    return {
      ordinal,
      name: new TextDecoder().decode(name.subarray(0, Math.max(0, name.indexOf(0)))),
      computeCapability: [this.attribute(dev, A.COMPUTE_CAPABILITY_MAJOR), this.attribute(dev, A.COMPUTE_CAPABILITY_MINOR)],
      multiprocessors: this.attribute(dev, A.MULTIPROCESSOR_COUNT),
      totalBytes: Number(total[0]),
      maxSharedOptin: this.attribute(dev, A.MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
    };
  }

  /** Retains the device's primary context (the one the CUDA runtime and cuBLAS use) and makes it current. */
  retainPrimaryContext(ordinal: number): Pointer {
    const dev = this.device(ordinal);
    const ctx = new BigUint64Array(1);
    this.check(this.sym.cuDevicePrimaryCtxRetain(ctx, dev), "cuDevicePrimaryCtxRetain");
    const handle = Number(ctx[0]) as Pointer;
    this.check(this.sym.cuCtxSetCurrent(handle), "cuCtxSetCurrent");
    return handle;
  }

  releasePrimaryContext(ordinal: number): void {
    this.check(this.sym.cuDevicePrimaryCtxRelease_v2(this.device(ordinal)), "cuDevicePrimaryCtxRelease");
  }

  synchronize(): void {
    this.check(this.sym.cuCtxSynchronize(), "cuCtxSynchronize");
  }

  memInfo(): { free: number; total: number } {
    const f = new BigUint64Array(1);
    const t = new BigUint64Array(1);
    this.check(this.sym.cuMemGetInfo_v2(f, t), "cuMemGetInfo");
    return { free: Number(f[0]), total: Number(t[0]) };
  }

  createStream(nonBlocking = true): Pointer {
    const s = new BigUint64Array(1);
    this.check(this.sym.cuStreamCreate(s, nonBlocking ? 1 : 0), "cuStreamCreate");
    return Number(s[0]) as Pointer;
  }

  destroyStream(s: Pointer): void {
    this.check(this.sym.cuStreamDestroy_v2(s), "cuStreamDestroy");
  }

  streamSynchronize(s: Pointer | null): void {
    this.check(this.sym.cuStreamSynchronize(s), "cuStreamSynchronize");
  }

  createEvent(): Pointer {
    const e = new BigUint64Array(1);
    this.check(this.sym.cuEventCreate(e, 0), "cuEventCreate");
    return Number(e[0]) as Pointer;
  }

  destroyEvent(e: Pointer): void {
    this.check(this.sym.cuEventDestroy_v2(e), "cuEventDestroy");
  }

  recordEvent(e: Pointer, s: Pointer | null): void {
    this.check(this.sym.cuEventRecord(e, s), "cuEventRecord");
  }

  eventSynchronize(e: Pointer): void {
    this.check(this.sym.cuEventSynchronize(e), "cuEventSynchronize");
  }

  /** Milliseconds between two recorded events. */
  elapsedMs(start: Pointer, end: Pointer): number {
    if (!this.elapsedFn) throw new Error(`cuEventElapsedTime is not exported by ${this.path}`);
    const ms = new Float32Array(1);
    this.check(this.elapsedFn(ms, start, end), "cuEventElapsedTime");
    return ms[0]!;
  }

  /** Device memory, or 0 when the device is out of memory (the caching allocator then frees its cache and retries). */
  memAlloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`cuMemAlloc: ${bytes} is not a byte count from 0 to 2^53 - 1`);
    const p = new BigUint64Array(1);
    const r = this.sym.cuMemAlloc_v2(p, bytes);
    if (r === CUDA_ERROR_OUT_OF_MEMORY) return 0;
    this.check(r, `cuMemAlloc(${bytes} bytes)`);
    const addr = Number(p[0]);
    if (!Number.isSafeInteger(addr)) throw new Error(`cuMemAlloc returned an address beyond 2^53 (${p[0]}), which lft cannot hold in a number`);
    return addr;
  }

  memFree(dptr: number): void {
    this.check(this.sym.cuMemFree_v2(dptr), "cuMemFree");
  }

  copyHtoD(dst: number, src: ArrayBufferView, bytes: number, s: Pointer | null): void {
    if (bytes > 0) this.check(this.sym.cuMemcpyHtoDAsync_v2(dst, src as Uint8Array, bytes, s), "cuMemcpyHtoD");
  }

  copyDtoH(dst: ArrayBufferView, src: number, bytes: number, s: Pointer | null): void {
    if (bytes > 0) this.check(this.sym.cuMemcpyDtoHAsync_v2(dst as Uint8Array, src, bytes, s), "cuMemcpyDtoH");
  }

  copyDtoD(dst: number, src: number, bytes: number, s: Pointer | null): void {
    if (bytes > 0) this.check(this.sym.cuMemcpyDtoDAsync_v2(dst, src, bytes, s), "cuMemcpyDtoD");
  }

  memset32(dst: number, word: number, count: number, s: Pointer | null): void {
    if (count > 0) this.check(this.sym.cuMemsetD32Async(dst, word >>> 0, count, s), "cuMemsetD32");
  }

  memset16(dst: number, half: number, count: number, s: Pointer | null): void {
    if (count > 0) this.check(this.sym.cuMemsetD16Async(dst, half & 0xffff, count, s), "cuMemsetD16");
  }

  loadModule(image: Uint8Array): Pointer {
    const m = new BigUint64Array(1);
    this.check(this.sym.cuModuleLoadData(m, image), "cuModuleLoadData");
    return Number(m[0]) as Pointer;
  }

  unloadModule(m: Pointer): void {
    this.check(this.sym.cuModuleUnload(m), "cuModuleUnload");
  }

  getFunction(m: Pointer, name: string): Pointer {
    const f = new BigUint64Array(1);
    this.check(this.sym.cuModuleGetFunction(f, m, Buffer.from(`${name}\0`)), `cuModuleGetFunction(${name})`);
    return Number(f[0]) as Pointer;
  }

  setMaxDynamicShared(f: Pointer, bytes: number, name: string): void {
    this.check(
      this.sym.cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
      `cuFuncSetAttribute(${name}, max dynamic shared = ${bytes})`,
    );
  }

  /** Packs the typed arguments (args.ts) and launches. */
  launch(
    f: Pointer,
    name: string,
    grid: readonly [number, number, number],
    block: readonly [number, number, number],
    sharedBytes: number,
    stream: Pointer | null,
    types: readonly ArgType[],
    values: readonly ArgValue[],
  ): void {
    const layout = layoutArgs(types);
    const buf = layout.totalBytes <= this.argBuf.byteLength ? this.argBuf : new Uint8Array(layout.totalBytes);
    const at = encodeArgs(name, types, values, buf, BigInt(ptr(buf)), layout);
    const params = buf.subarray(at);
    this.check(
      this.sym.cuLaunchKernel(f, grid[0], grid[1], grid[2], block[0], block[1], block[2], sharedBytes, stream, params, null),
      `cuLaunchKernel(${name}, grid ${grid.join("x")}, block ${block.join("x")}, ${sharedBytes} B shared)`,
    );
  }
}

export const DRIVER_NAMES = ["libcuda.so.1", "libcuda.so"] as const;

export type DriverLoad = { ok: true; driver: CudaDriver; path: string } | { ok: false; reason: string };

/** Opens the driver library at `path` with every symbol lft uses (throws if one is missing). */
export function openDriverAt(path: string): CudaDriver {
  const lib = dlopen(path, SYMBOLS);
  let elapsed: CudaDriver["elapsedFn"] = null;
  for (const name of ELAPSED) {
    try {
      const e = dlopen(path, { [name]: { args: [P, P, P], returns: i32 } } as Record<string, { args: FFIType[]; returns: FFIType }>);
      elapsed = e.symbols[name] as unknown as (ms: Float32Array, a: Pointer, b: Pointer) => number;
      break;
    } catch {
      // try the older name
    }
  }
  return new CudaDriver(lib.symbols, path, elapsed);
}

/** Finds and opens libcuda (no cuInit yet). `env` defaults to process.env; tests pass their own. */
export function loadDriver(env: Readonly<Record<string, string | undefined>> = process.env): DriverLoad {
  const located = locate(DRIVER_NAMES, searchDirs(env, { compat: true }));
  const r = loadFirst("the CUDA driver", DRIVER_NAMES, located, openDriverAt);
  if ("error" in r) return { ok: false, reason: r.error };
  const loaded = r as Loaded<CudaDriver>;
  return { ok: true, driver: loaded.value, path: loaded.path };
}
