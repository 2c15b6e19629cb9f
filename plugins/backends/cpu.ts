// The CPU backend as a plugin: always available, lowest priority, so `device = auto` picks a GPU
// backend when one registers and finds a device.
import { cpuBackend, definePlugin } from "../../core/index.ts";

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
