// Which backend new tensors go to when none is named. Core holds no backend of its own (it imports
// nothing outside core/): whoever starts the process registers one first. The CLI, the library entry
// `lft.ts` and the test preload register the CPU backend; a recipe's `device = cuda` (or `auto` finding a
// GPU) switches to the CUDA backend through setDefaultBackend.
import type { Backend } from "./backend.ts";

let current: Backend | null = null;

export class NoBackendError extends Error {
  constructor() {
    super(
      "no backend is registered: start through lft's CLI (./lft), import the library entry lft.ts (which registers the CPU backend), " +
        "or call setDefaultBackend(backend) before creating tensors",
    );
    this.name = "NoBackendError";
  }
}

export function defaultBackend(): Backend {
  if (current === null) throw new NoBackendError();
  return current;
}

export function setDefaultBackend(b: Backend): void {
  current = b;
}

/** Whether a backend has been registered (for entries that register the CPU backend only if none is). */
export function hasDefaultBackend(): boolean {
  return current !== null;
}
