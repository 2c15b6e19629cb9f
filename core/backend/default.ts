// Which backend new tensors go to when none is named. The CPU backend is always present; the CUDA
// backend plugin calls setDefaultBackend when a recipe says `device = cuda` (or `auto` finds a GPU).
import { cpuBackend } from "../../ffi/cpu/cpu.ts";
import type { Backend } from "./backend.ts";

let current: Backend = cpuBackend;

export function defaultBackend(): Backend {
  return current;
}

export function setDefaultBackend(b: Backend): void {
  current = b;
}

export { cpuBackend };
