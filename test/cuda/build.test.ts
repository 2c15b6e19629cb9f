// The CUDA kernels compile (make cuda, nvcc -> one fatbin for sm_80 and sm_90) and every kernel the
// binding launches exists in both cubins with exactly the parameter offsets and sizes our argument packer
// produces (read from the fatbin's .nv.info sections). No GPU needed. The build is cached by a hash of the
// sources, the Makefile and nvcc's version (fatbin-build.ts, shared with ffi-fake.test.ts, so whichever
// test file loads first builds it), so CI compiles once per change (~20 s), not once per run.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { layoutArgs } from "../../ffi/cuda/args.ts";
import { parseFatbin } from "../../ffi/cuda/fatbin.ts";
import { FATBIN_PATH, KERNELS } from "../../ffi/cuda/kernels.ts";
import { ensureFatbin, findNvcc } from "./fatbin-build.ts";

const nvcc = findNvcc();
if (!nvcc) console.log("[cuda] kernel compile test skipped: nvcc not found on PATH or in /usr/local/cuda*/bin");

describe.skipIf(!nvcc)("CUDA kernels (nvcc)", () => {
  test("make cuda builds ffi/cuda/build/lft_cuda.fatbin (cached by source hash)", () => {
    const built = ensureFatbin();
    if (!built.ok) throw new Error(built.reason);
    console.log(`[cuda] ${built.note}`);
    expect(existsSync(FATBIN_PATH)).toBe(true);
  });

  test("the fatbin holds readable cubins for sm_80 and sm_90", () => {
    const info = parseFatbin(new Uint8Array(readFileSync(FATBIN_PATH)));
    expect(info.cubins.map((c) => c.sm).sort()).toEqual([80, 90]);
    expect(info.skipped).toEqual([]);
  });

  test("every kernel in ffi/cuda/kernels.ts exists in each cubin with the packer's parameter layout", () => {
    const info = parseFatbin(new Uint8Array(readFileSync(FATBIN_PATH)));
    const problems: string[] = [];
    for (const cubin of info.cubins) {
      for (const [name, types] of KERNELS) {
        const params = cubin.kernels.get(name);
        if (!params) {
          problems.push(`sm_${cubin.sm}: ${name} is missing`);
          continue;
        }
        const l = layoutArgs(types);
        const got = params.map((p) => `${p.offset}:${p.size}`).join(" ");
        const want = l.offsets.map((o, i) => `${o}:${l.sizes[i]}`).join(" ");
        if (got !== want) problems.push(`sm_${cubin.sm}: ${name} has params (offset:size) ${got}, the table packs ${want}`);
      }
      for (const k of cubin.kernels.keys()) if (!KERNELS.has(k)) problems.push(`sm_${cubin.sm}: ${k} is compiled but not in the kernel table`);
    }
    expect(problems).toEqual([]);
    expect(KERNELS.size).toBeGreaterThan(90);
  });
});

test("the fatbin parser rejects what is not a fatbin", () => {
  expect(() => parseFatbin(new Uint8Array(64))).toThrow("not a fatbin");
});
