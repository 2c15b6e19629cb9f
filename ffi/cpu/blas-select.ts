// Chooses OpenBLAS's kernels before the library loads. Debian's OpenBLAS 0.3.21 falls back to slow
// generic kernels on CPUs newer than it knows (e.g. a Xeon with AVX-512 runs as "Prescott" at ~65
// instead of ~300 GFLOP/s), and OPENBLAS_CORETYPE is read only once, at load time. We ask the
// library what it would pick (a probe process), read the CPU's flags, and force a core type only when
// the pick is a generic one and the CPU can run a better one. Forcing a core the CPU cannot run
// would crash with an illegal instruction, so that is refused.
import { existsSync, readFileSync } from "node:fs";

export interface BlasChoice {
  /** Value to set as OPENBLAS_CORETYPE before loading, or null to leave the library's own pick. */
  coretype: string | null;
  reason: string;
}

/** Cores OpenBLAS uses when it does not recognise a modern x86 CPU: far slower than AVX2/AVX-512 kernels. */
const GENERIC_CORES = new Set([
  "prescott",
  "katmai",
  "coppermine",
  "northwood",
  "core2",
  "penryn",
  "dunnington",
  "nehalem",
  "atom",
  "banias",
  "opteron",
  "opteron_sse3",
  "barcelona",
  "generic",
]);

/** ISA each forcible core needs (lower-case /proc/cpuinfo flags). */
const CORE_NEEDS: Record<string, readonly string[]> = {
  skylakex: ["avx512f", "avx512bw", "avx512dq", "avx512vl"],
  cooperlake: ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"],
  sapphirerapids: ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"],
  haswell: ["avx2", "fma"],
  zen: ["avx2", "fma"],
  sandybridge: ["avx"],
};

export function readCpuFlags(cpuinfo = "/proc/cpuinfo"): Set<string> {
  if (!existsSync(cpuinfo)) return new Set();
  const line = readFileSync(cpuinfo, "utf8")
    .split("\n")
    .find((l) => l.startsWith("flags"));
  return new Set((line?.split(":")[1] ?? "").trim().split(/\s+/).filter(Boolean));
}

export function missingFlags(core: string, flags: Set<string>): string[] {
  return (CORE_NEEDS[core.toLowerCase()] ?? []).filter((f) => !flags.has(f));
}

/**
 * The policy. `override` is the user's choice (LFT_BLAS_CORETYPE or an OPENBLAS_CORETYPE already set),
 * `detected` the core the library picks by itself (null when the probe could not run).
 */
export function chooseBlasCore(flags: Set<string>, detected: string | null, override: string | null): BlasChoice | Error {
  if (override) {
    const missing = missingFlags(override, flags);
    if (missing.length > 0) {
      return new Error(
        `OpenBLAS core type "${override}" needs CPU features this machine lacks (${missing.join(", ")}); unset LFT_BLAS_CORETYPE/OPENBLAS_CORETYPE or choose one this CPU runs (detected: ${detected ?? "unknown"})`,
      );
    }
    return { coretype: override, reason: `forced by the user to ${override}` };
  }
  if (detected === null) return { coretype: null, reason: "left to OpenBLAS (its probe did not run)" };
  if (!GENERIC_CORES.has(detected.toLowerCase())) return { coretype: null, reason: `OpenBLAS detected ${detected} itself` };
  for (const better of ["SkylakeX", "Haswell", "Sandybridge"]) {
    if (missingFlags(better, flags).length === 0) {
      return { coretype: better, reason: `OpenBLAS would use generic ${detected} kernels; this CPU runs ${better} kernels, forced` };
    }
  }
  return { coretype: null, reason: `OpenBLAS detected generic ${detected}; this CPU has no AVX, kept` };
}

/** Runs the probe binary (built beside the library) and returns the core name it prints. */
export function probeBlasCore(probePath: string): string | null {
  if (!existsSync(probePath)) return null;
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  const r = Bun.spawnSync([probePath], { env, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) return null;
  const name = r.stdout.toString().split("\t")[0]?.trim();
  return name || null;
}
