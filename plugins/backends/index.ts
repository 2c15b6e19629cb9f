// The backend plugins lft ships (CPU and CUDA), and the start-up hook that makes the CPU the default.
export { default as cpuBackendPlugin, useCpuBackendByDefault } from "./cpu.ts";
export { default as cudaBackendPlugin } from "./cuda.ts";
