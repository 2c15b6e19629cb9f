// Builds (or finds up to date) ffi/cuda/build/lft_cuda.fatbin for the tests that need it: build.test.ts
// checks the build, ffi-fake.test.ts runs the backend over a fake driver with it. Both call
// ensureFatbin() when they load, so neither depends on the other running first. The build is cached by
// a hash of the sources, the Makefile and nvcc's version (~20 s once per change, not once per run).
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FATBIN_PATH } from "../../ffi/cuda/kernels.ts";

const ROOT = join(import.meta.dir, "../..");
const SRC = join(ROOT, "ffi/cuda/src");
const HASH_PATH = `${FATBIN_PATH}.sha256`;

export function findNvcc(): string | null {
  for (const d of (process.env.PATH ?? "").split(":")) if (d && existsSync(join(d, "nvcc"))) return join(d, "nvcc");
  for (const d of [
    "/usr/local/cuda/bin",
    ...(existsSync("/usr/local")
      ? readdirSync("/usr/local")
          .filter((n) => n.startsWith("cuda-"))
          .map((n) => `/usr/local/${n}/bin`)
      : []),
  ]) {
    if (existsSync(join(d, "nvcc"))) return join(d, "nvcc");
  }
  return null;
}

function sourceHash(nvccPath: string): string {
  const h = createHash("sha256");
  for (const f of readdirSync(SRC).sort()) h.update(f).update(readFileSync(join(SRC, f)));
  h.update(readFileSync(join(ROOT, "Makefile")));
  h.update(Bun.spawnSync([nvccPath, "--version"]).stdout);
  return h.digest("hex");
}

export type FatbinState =
  | { readonly ok: true; readonly path: string; readonly note: string }
  | { readonly ok: false; readonly reason: string; readonly buildFailed: boolean };

let state: FatbinState | undefined;

/** The fatbin, built with `make cuda` when nvcc is present and the cached one is stale; once per process. */
export function ensureFatbin(): FatbinState {
  if (state !== undefined) return state;
  const nvcc = findNvcc();
  if (!nvcc) {
    state = existsSync(FATBIN_PATH)
      ? { ok: true, path: FATBIN_PATH, note: "nvcc not found; using the fatbin already built" }
      : { ok: false, reason: `${FATBIN_PATH} is not built and nvcc is not on PATH or in /usr/local/cuda*/bin`, buildFailed: false };
    return state;
  }
  const hash = sourceHash(nvcc);
  if (existsSync(FATBIN_PATH) && existsSync(HASH_PATH) && readFileSync(HASH_PATH, "utf8") === hash) {
    state = { ok: true, path: FATBIN_PATH, note: `fatbin up to date for source hash ${hash.slice(0, 12)}` };
    return state;
  }
  const t0 = performance.now();
  const r = Bun.spawnSync(["make", "-B", "cuda", `NVCC=${nvcc}`], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    state = { ok: false, reason: `make cuda failed (exit ${r.exitCode}):\n${r.stdout.toString()}${r.stderr.toString()}`, buildFailed: true };
    return state;
  }
  writeFileSync(HASH_PATH, hash);
  state = { ok: true, path: FATBIN_PATH, note: `make cuda: ${((performance.now() - t0) / 1000).toFixed(1)} s` };
  return state;
}
