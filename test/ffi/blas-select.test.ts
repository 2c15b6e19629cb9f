// The OpenBLAS kernel-selection policy (ffi/cpu/blas-select.ts): force a better core only over a generic
// pick and only when the CPU has the flags, refuse an override the CPU cannot run, and leave everything
// else to OpenBLAS. Then the live library: the core it runs with must be one this CPU can execute.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseBlasCore, missingFlags, probeBlasCore, readCpuFlags } from "../../ffi/cpu/blas-select.ts";
import { LIB_DIR } from "../../ffi/cpu/cpu.ts";
import { blasInfo } from "../../lft.ts";

const BASE = ["fpu", "sse", "sse2", "ssse3", "sse4_1", "sse4_2", "popcnt"];
const AVX = [...BASE, "avx"];
const AVX2 = [...AVX, "avx2", "fma", "f16c", "bmi2"];
const AVX512 = [...AVX2, "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"];
const flags = (xs: string[]) => new Set(xs);

describe("chooseBlasCore", () => {
  test("a generic pick on an AVX-512 CPU is forced to SkylakeX", () => {
    for (const generic of ["Prescott", "Nehalem", "Core2", "Barcelona"]) {
      const c = chooseBlasCore(flags(AVX512), generic, null);
      if (c instanceof Error) throw c;
      expect(c.coretype).toBe("SkylakeX");
      expect(c.reason).toContain(generic);
      expect(c.reason).toContain("SkylakeX");
    }
  });

  test("a generic pick with AVX2 + FMA only is forced to Haswell; AVX only to Sandybridge; no AVX is kept", () => {
    const haswell = chooseBlasCore(flags(AVX2), "Prescott", null);
    if (haswell instanceof Error) throw haswell;
    expect(haswell.coretype).toBe("Haswell");
    // AVX-512F alone (no BW/DQ/VL, as on Knights Landing) is not enough for SkylakeX kernels.
    const partial = chooseBlasCore(flags([...AVX2, "avx512f"]), "Prescott", null);
    if (partial instanceof Error) throw partial;
    expect(partial.coretype).toBe("Haswell");
    // AVX2 without FMA cannot run Haswell kernels.
    const noFma = chooseBlasCore(flags([...AVX, "avx2"]), "prescott", null);
    if (noFma instanceof Error) throw noFma;
    expect(noFma.coretype).toBe("Sandybridge");
    const none = chooseBlasCore(flags(BASE), "Prescott", null);
    if (none instanceof Error) throw none;
    expect(none.coretype).toBeNull();
    expect(none.reason).toMatch(/no AVX/);
  });

  test("a non-generic detected core is left alone, whatever the flags", () => {
    for (const detected of ["Zen", "Haswell", "SkylakeX", "Cooperlake", "SapphireRapids"]) {
      const c = chooseBlasCore(flags(AVX512), detected, null);
      if (c instanceof Error) throw c;
      expect(c.coretype).toBeNull();
      expect(c.reason).toBe(`OpenBLAS detected ${detected} itself`);
    }
  });

  test("an override the CPU cannot run is an Error naming the missing features", () => {
    const c = chooseBlasCore(flags(AVX2), "Haswell", "SkylakeX");
    expect(c).toBeInstanceOf(Error);
    const msg = (c as Error).message;
    expect(msg).toContain('"SkylakeX"');
    expect(msg).toContain("avx512f, avx512bw, avx512dq, avx512vl");
    expect(msg).toContain("LFT_BLAS_CORETYPE");
    expect(msg).toContain("detected: Haswell");
    // Lower-case names are the same core.
    expect(chooseBlasCore(flags(AVX2), null, "skylakex")).toBeInstanceOf(Error);
    const bf16 = chooseBlasCore(flags(AVX512), null, "Cooperlake");
    expect(bf16).toBeInstanceOf(Error);
    expect((bf16 as Error).message).toContain("(avx512_bf16)");
  });

  test("an override the CPU can run is used as given", () => {
    const c = chooseBlasCore(flags(AVX512), "Prescott", "Haswell");
    if (c instanceof Error) throw c;
    expect(c.coretype).toBe("Haswell");
    expect(c.reason).toContain("forced by the user");
  });

  test("without a probe result nothing is forced", () => {
    const c = chooseBlasCore(flags(AVX512), null, null);
    if (c instanceof Error) throw c;
    expect(c.coretype).toBeNull();
    expect(c.reason).toMatch(/probe did not run/);
  });

  test("missingFlags lists exactly the absent requirements", () => {
    expect(missingFlags("SkylakeX", flags(AVX2))).toEqual(["avx512f", "avx512bw", "avx512dq", "avx512vl"]);
    expect(missingFlags("HASWELL", flags(AVX))).toEqual(["avx2", "fma"]);
    expect(missingFlags("Haswell", flags(AVX2))).toEqual([]);
  });
});

describe("reading the CPU", () => {
  test("readCpuFlags parses the first flags line of a cpuinfo file; a missing file gives no flags", () => {
    const dir = mkdtempSync(join(tmpdir(), "lft-cpuinfo-"));
    try {
      const path = join(dir, "cpuinfo");
      writeFileSync(path, "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx  avx2 fma\nbugs\t\t: none\n\nprocessor\t: 1\nflags\t\t: fpu\n");
      expect([...readCpuFlags(path)].sort()).toEqual(["avx", "avx2", "fma", "fpu"]);
      expect(readCpuFlags(join(dir, "absent")).size).toBe(0);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("probeBlasCore returns null for a missing probe and a name for the built one", () => {
    expect(probeBlasCore("/nonexistent/blas_probe")).toBeNull();
    const name = probeBlasCore(join(LIB_DIR, "blas_probe"));
    expect(typeof name).toBe("string");
    expect(name!.length).toBeGreaterThan(0);
  });
});

describe("the loaded library", () => {
  test("reports a corename, and its kernels can run on this CPU", () => {
    const info = blasInfo();
    expect(info.corename.length).toBeGreaterThan(0);
    expect(info.config).toContain("OpenBLAS");
    expect(info.threads).toBeGreaterThan(0);
    expect(info.reason.length).toBeGreaterThan(0);
    const cpu = readCpuFlags();
    // The core OpenBLAS runs needs only flags this CPU has (else a GEMM would die of an illegal instruction).
    expect(missingFlags(info.corename, cpu)).toEqual([]);
    // And it is not a generic core when the CPU could run better kernels: the whole point of the policy.
    const generic = ["prescott", "core2", "nehalem", "barcelona", "generic"].includes(info.corename.toLowerCase());
    if (cpu.has("avx2") && cpu.has("fma")) expect(generic).toBe(false);
  });
});
