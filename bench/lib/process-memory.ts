// Where a training process's bytes are: peak RSS (VmHWM) split into the runtime it started with, the CPU
// allocator's peak reserve (live tensors plus its cache), Bun's JS heap, and the rest (OpenBLAS and
// OpenMP buffers, malloc overhead and fragmentation); and the GEMM ceiling the step's FLOPs are
// measured against (cblas_sgemm through the backend, best of a few runs, in the same process and run).

import { heapStats } from "bun:jsc";
import { readFileSync } from "node:fs";
import { cpuBackend, Tensor } from "../../lft.ts";

const MiB = 2 ** 20;

/** A field of /proc/self/status in bytes (VmHWM, VmRSS, RssAnon, RssFile). */
export function procStatusBytes(field: string): number {
  const line = readFileSync("/proc/self/status", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return line ? Number.parseInt(line.slice(field.length + 1), 10) * 1024 : 0;
}

export interface MemoryBreakdown {
  /** Peak resident set of the whole process (VmHWM). */
  rssPeakMiB: number;
  /** RSS before the model was built: Bun, the loaded libraries. */
  runtimeMiB: number;
  /** The allocator's live peak (tensors in use at once). */
  allocatorLivePeakMiB: number;
  /** The allocator's reserve at its peak (live + cached blocks of other size classes). */
  allocatorReservedPeakMiB: number;
  /** Cached (free, not returned) bytes at the end of the run. */
  allocatorCachedMiB: number;
  /** Bun's JS heap (objects plus external buffers it accounts). */
  jsHeapMiB: number;
  /** rssPeak - runtime - reserved peak - JS heap: OpenBLAS/OpenMP buffers, malloc overhead, fragmentation. */
  otherMiB: number;
}

/** The breakdown now, given the RSS measured before the model existed. */
export function memoryBreakdown(runtimeBytes: number): MemoryBreakdown {
  const s = cpuBackend.allocator.stats();
  const h = heapStats();
  const rss = procStatusBytes("VmHWM");
  const js = h.heapSize + h.extraMemorySize;
  const mib = (b: number) => Math.round(b / MiB);
  return {
    rssPeakMiB: mib(rss),
    runtimeMiB: mib(runtimeBytes),
    allocatorLivePeakMiB: mib(s.peakBytes),
    allocatorReservedPeakMiB: mib(s.peakReservedBytes),
    allocatorCachedMiB: mib(s.cachedBytes),
    jsHeapMiB: mib(js),
    otherMiB: mib(rss - runtimeBytes - s.peakReservedBytes - js),
  };
}

/** GFLOP/s of an n×n×n f32 GEMM through the backend (cblas_sgemm), best of `reps`. */
export function gemmCeilingGflops(n = 1024, reps = 5): number {
  const a = Tensor.alloc(cpuBackend, [n, n], "f32", false);
  const b = Tensor.alloc(cpuBackend, [n, n], "f32", false);
  const c = Tensor.alloc(cpuBackend, [n, n], "f32", false);
  cpuBackend.fill(a, 0.5);
  cpuBackend.fill(b, 0.25);
  let best = Number.POSITIVE_INFINITY;
  try {
    cpuBackend.matmul(c, a, b);
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      cpuBackend.matmul(c, a, b);
      best = Math.min(best, (performance.now() - t) / 1000);
    }
  } finally {
    a.dispose();
    b.dispose();
    c.dispose();
  }
  return (2 * n ** 3) / best / 1e9;
}
