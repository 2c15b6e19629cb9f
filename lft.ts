// lft as a library, for scripts, benchmarks and examples: the whole core (core/index.ts), with the CPU
// backend registered as the default for new tensors (core itself holds no backend: it imports nothing
// outside core/), plus the CPU binding's cpuBackend, blasInfo and LAPACK SVD (installed as core's native
// SVD), and the built-in optimizers AdamW and SGD.
import { hasDefaultBackend, nativeSvd, setDefaultBackend, setNativeSvd } from "./core/index.ts";
import { cpuBackend, cpuSvd } from "./ffi/cpu/cpu.ts";

export * from "./core/index.ts";
export { blasInfo, cpuBackend, cpuSvd } from "./ffi/cpu/cpu.ts";
export { AdamW, type AdamWOptions, SGD, type SGDOptions } from "./plugins/optimizers/index.ts";

if (!hasDefaultBackend()) setDefaultBackend(cpuBackend);
if (!nativeSvd()) setNativeSvd(cpuSvd);
