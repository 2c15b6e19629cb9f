// The fake CUDA driver and cuBLAS for the binding's tests (fixtures/fake_cuda.c: device memory in host
// memory, launches and GEMMs recorded, not run): built into a temporary folder under the names libcuda and
// libcublas, its inspection hooks, the parameter names of every kernel in ffi/cuda/src, and launch decoding.
import { dlopen, FFIType } from "bun:ffi";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ArgType, layoutArgs } from "../../ffi/cuda/args.ts";
import { KERNELS } from "../../ffi/cuda/kernels.ts";
import { ensureFatbin } from "./fatbin-build.ts";

const ROOT = join(import.meta.dir, "../..");
export const gcc = ["gcc", "cc"].find((c) => Bun.spawnSync(["sh", "-c", `command -v ${c}`]).exitCode === 0) ?? null;
if (!gcc) console.log("[cuda] fake-driver tests skipped: no C compiler (gcc/cc) on PATH");
// Built here if need be (not left to build.test.ts, which may run later or not at all): the skip
// decision then does not depend on the order test files run in.
const fatbin = ensureFatbin();
export const haveFatbin = fatbin.ok;
if (!fatbin.ok) console.log(`[cuda] fake-driver backend tests skipped: ${fatbin.reason}`);

/** The folder holding the fake libraries (prepend it to LD_LIBRARY_PATH), and the library itself. */
export const dir = mkdtempSync(join(tmpdir(), "lft-fake-cuda-"));
export const lib = join(dir, "libfakecuda.so");

/** Removes the folder (a test file's afterAll). */
export function removeFakeDriver(): void {
  rmSync(dir, { recursive: true, force: true });
}

const { ptr: P, i32, u64, f32, cstring, void: V } = FFIType;
function fakeHooks() {
  return dlopen(lib, {
    fake_register: { args: [P, i32, P], returns: V },
    fake_launch_count: { args: [], returns: i32 },
    fake_sync_count: { args: [], returns: i32 },
    fake_live_allocs: { args: [], returns: FFIType.i64 },
    fake_attr_fn: { args: [], returns: i32 },
    fake_attr_value: { args: [], returns: i32 },
    fake_launch_name: { args: [i32], returns: cstring },
    fake_launch_dim: { args: [i32, i32], returns: FFIType.u32 },
    fake_launch_stream: { args: [i32], returns: u64 },
    fake_launch_param: { args: [i32, i32, P], returns: V },
    fake_gemm_count: { args: [], returns: i32 },
    fake_gemm_arg: { args: [i32], returns: FFIType.i64 },
    fake_gemm_scalar: { args: [i32], returns: f32 },
    fake_blas_state: { args: [i32], returns: u64 },
  }).symbols;
}
export type FakeHooks = ReturnType<typeof fakeHooks>;

/** Compiles the fake driver, links it under the CUDA library names and registers every kernel's argument layout. */
export function buildFakeDriver(compiler: string): FakeHooks {
  const r = Bun.spawnSync([compiler, "-shared", "-fPIC", "-O1", "-o", lib, join(import.meta.dir, "fixtures/fake_cuda.c")], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`building the fake driver failed: ${r.stderr}`);
  for (const name of ["libcuda.so.1", "libcublas.so.12", "libcublasLt.so.12"]) symlinkSync(lib, join(dir, name));
  const fake = fakeHooks();
  for (const [name, types] of KERNELS) {
    const sizes = Int32Array.from(layoutArgs(types).sizes);
    fake.fake_register(Buffer.from(`${name}\0`), sizes.length, sizes);
  }
  return fake;
}

/** Parameter names of every extern "C" kernel in ffi/cuda/src, expanded over the macro suffixes. */
function cuParamNames(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const src = readdirSync(join(ROOT, "ffi/cuda/src"))
    .filter((f) => f.endsWith(".cu") && f !== "lft_cuda.cu")
    .map((f) => readFileSync(join(ROOT, "ffi/cuda/src", f), "utf8").replace(/\\\n/g, " "))
    .join("\n");
  const re = /extern "C" __global__ void (?:__launch_bounds__\(\d+\) )?(lft_[\w#]+)\s*\(([^)]*)\)/g;
  for (const m of src.matchAll(re)) {
    const names = m[2]!.split(",").map((p) => p.trim().match(/(\w+)$/)![1]!);
    const pattern = new RegExp(`^${m[1]!.replace("##DPL##", "\\d").replace("##sfx", "(f32|bf16)")}$`);
    for (const k of KERNELS.keys()) if (pattern.test(k)) out.set(k, names);
  }
  return out;
}

export interface Launch {
  name: string;
  grid: number[];
  block: number[];
  shared: number;
  /** Parameter values by the .cu parameter name (pointers and integers as numbers, structs as bytes). */
  args: Record<string, number | bigint | Uint8Array>;
}

export const names = cuParamNames();

function decode(types: readonly ArgType[], bytes: Uint8Array[]): (number | bigint | Uint8Array)[] {
  return types.map((t, i) => {
    const dv = new DataView(bytes[i]!.buffer);
    if (typeof t !== "string") return bytes[i]!.slice(0, t.struct);
    switch (t) {
      case "ptr":
      case "i64":
        return Number(dv.getBigInt64(0, true));
      case "u64":
        return dv.getBigUint64(0, true);
      case "i32":
        return dv.getInt32(0, true);
      case "u32":
        return dv.getUint32(0, true);
      case "f32":
        return dv.getFloat32(0, true);
      case "f64":
        return dv.getFloat64(0, true);
    }
    throw new Error(`decode: unknown argument type ${String(t)}`);
  });
}

/** The launches `fn` makes, decoded. */
export function decodeLaunches(fake: FakeHooks, fn: () => void): Launch[] {
  const before = fake.fake_launch_count();
  fn();
  const after = fake.fake_launch_count();
  const out: Launch[] = [];
  for (let k = before; k < after; k++) {
    const name = String(fake.fake_launch_name(k));
    const types = KERNELS.get(name)!;
    const bytes = types.map((_, i) => {
      const b = new Uint8Array(128);
      fake.fake_launch_param(k, i, b);
      return b;
    });
    const values = decode(types, bytes);
    const pn = names.get(name)!;
    const d = (i: number) => fake.fake_launch_dim(k, i);
    out.push({ name, grid: [d(0), d(1), d(2)], block: [d(3), d(4), d(5)], shared: d(6), args: Object.fromEntries(pn.map((n, i) => [n, values[i]!])) });
  }
  return out;
}
