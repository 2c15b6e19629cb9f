// The CPU backend as a plugin: always available, lowest priority, so `device = auto` picks a GPU
// backend when one registers and finds a device. Also the start-up default: core holds no backend, so
// the process entry (the CLI) calls useCpuBackendByDefault before any tensor exists.
import { definePlugin, hasDefaultBackend, nativeSvd, setDefaultBackend, setNativeSvd } from "../../core/index.ts";
import { cpuBackend, cpuSvd } from "../../ffi/cpu/cpu.ts";

/** Registers the CPU backend as the default for new tensors unless an entry already chose one, and LAPACK's SVD as core's native SVD. */
export function useCpuBackendByDefault(): void {
  if (!hasDefaultBackend()) setDefaultBackend(cpuBackend);
  if (!nativeSvd()) setNativeSvd(cpuSvd);
}

export default definePlugin({
  name: "lft-backend-cpu",
  setup(api) {
    api.register.backends({
      name: "cpu",
      doc: "C kernels with OpenBLAS GEMM (f32 compute; bf16/f16 storage)",
      priority: 0,
      available: () => true,
      open: () => cpuBackend,
    });
  },
});
