// The BLAS core choice really reaches OpenBLAS (set in the C environment before the library loads),
// and GEMM stays correct with every core this CPU can run. Each case is a fresh process, because
// OpenBLAS picks its kernels once per process.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { missingFlags, readCpuFlags } from "../../ffi/cpu/blas-select.ts";

const script = join(import.meta.dir, "..", "helpers", "gemm-check.ts");
const flags = readCpuFlags();

function runWith(env: Record<string, string>): { code: number; out: string; err: string } {
  const clean = { ...process.env };
  delete clean.OPENBLAS_CORETYPE;
  delete clean.LFT_BLAS_CORETYPE;
  const r = Bun.spawnSync([process.execPath, script], { env: { ...clean, ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("OpenBLAS core selection in a fresh process", () => {
  for (const core of ["SkylakeX", "Haswell", "Sandybridge", "Prescott"]) {
    const runnable = missingFlags(core, flags).length === 0;
    test.if(runnable)(`LFT_BLAS_CORETYPE=${core} loads ${core} kernels and GEMM matches float64`, () => {
      const r = runWith({ LFT_BLAS_CORETYPE: core });
      expect(r.err).toBe("");
      const report = JSON.parse(r.out) as { corename: string; reason: string; worstRelError: number };
      expect(report.corename.toLowerCase()).toBe(core.toLowerCase());
      expect(report.reason).toContain("forced by the user");
      // f32 GEMM vs float64 at k <= 515: ~1e-6 relative; a wrong kernel gives O(1).
      expect(report.worstRelError).toBeLessThan(1e-5);
    });
    test.if(!runnable)(`LFT_BLAS_CORETYPE=${core} is refused on this CPU, naming the missing features`, () => {
      const r = runWith({ LFT_BLAS_CORETYPE: core });
      expect(r.code).not.toBe(0);
      expect(r.err).toContain(`OpenBLAS core type "${core}" needs CPU features this machine lacks`);
      expect(r.err).toContain(missingFlags(core, flags)[0]!);
    });
  }

  test("with no override, the choice is the library's own or a forced better core, and is explained", () => {
    const r = runWith({});
    const report = JSON.parse(r.out) as { corename: string; reason: string; worstRelError: number };
    expect(report.reason).toMatch(/OpenBLAS detected|forced|left to OpenBLAS|kept/);
    expect(missingFlags(report.corename, flags)).toEqual([]);
    expect(report.worstRelError).toBeLessThan(1e-5);
  });
});
