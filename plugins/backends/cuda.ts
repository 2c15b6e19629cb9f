// The CUDA backend as a plugin: it always registers; available() says why it cannot run here (no driver,
// no GPU, kernels not built, no cuBLAS) so `device = auto` falls back to the CPU and `device = cuda`
// fails with that reason. Priority 100: preferred over the CPU (0) whenever it is available.
import { definePlugin } from "../../core/index.ts";
import { cudaBackend, probeCuda } from "../../ffi/cuda/index.ts";

export default definePlugin({
  name: "lft-backend-cuda",
  setup(api) {
    api.register.backends({
      name: "cuda",
      doc: "NVIDIA GPU: cuBLAS GEMMs and lft's CUDA kernels (f32 and bf16 storage, f32 accumulation)",
      priority: 100,
      available: () => probeCuda(),
      open: () => cudaBackend(),
    });
  },
});
