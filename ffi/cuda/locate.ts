// Finding the NVIDIA libraries (libcuda.so.1, libcublas, libcublasLt) where they live: LD_LIBRARY_PATH,
// the distribution's library folders, the CUDA toolkit's lib64 (and compat, for the forward-compatible
// driver), and the `nvidia/*/lib` folders of Python wheels on machines that have PyTorch. Pure over an
// injectable file system, so the search order and the messages are unit-tested without a GPU.
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface SearchFs {
  exists(path: string): boolean;
  isDir(path: string): boolean;
  list(dir: string): string[];
  /** The canonical path (symlinks resolved), so a folder reached twice is searched once. */
  real(path: string): string;
}

export const realFs: SearchFs = {
  exists: (p) => existsSync(p),
  isDir: (p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
  list: (d) => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  },
  real: (p) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  },
};

/** Expands `*` within path segments (no `**`), in sorted order; only existing directories come back. */
export function expandDirs(pattern: string, fs: SearchFs = realFs): string[] {
  const parts = pattern.split("/").filter((p, i) => p !== "" || i === 0);
  let dirs = [pattern.startsWith("/") ? "/" : "."];
  for (const part of parts) {
    if (part === "") continue;
    const next: string[] = [];
    if (part.includes("*")) {
      const re = new RegExp(`^${part.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
      for (const d of dirs) for (const name of fs.list(d).sort()) if (re.test(name)) next.push(join(d, name));
    } else {
      for (const d of dirs) next.push(join(d, part));
    }
    dirs = next.filter((d) => fs.isDir(d));
  }
  return dirs;
}

export interface SearchDir {
  readonly dir: string;
  /** Where this folder came from, for messages ("LD_LIBRARY_PATH", "CUDA toolkit", "Python wheel"). */
  readonly source: string;
}

const SITE_ROOTS = ["/opt/*/.venv", "/opt/*/venv", "/opt/conda", "/usr", "/usr/local"];

/**
 * Existing folders to search, in order, each once. `compat` adds the toolkit's forward-compatibility driver folders (only
 * wanted for libcuda, and after the system's own driver).
 */
export function searchDirs(env: Readonly<Record<string, string | undefined>>, opts: { compat?: boolean } = {}, fs: SearchFs = realFs): SearchDir[] {
  const out: SearchDir[] = [];
  const seen = new Set<string>();
  const add = (dir: string, source: string) => {
    const d = dir.replace(/\/+$/, "") || "/";
    // The toolkit's stubs link programs but cannot run anything (cuInit answers CUDA_ERROR_STUB_LIBRARY).
    if (/\/stubs$/.test(d) || !fs.isDir(d)) return;
    const real = fs.real(d);
    if (seen.has(real)) return;
    seen.add(real);
    out.push({ dir: d, source });
  };
  const globbed = (pattern: string, source: string) => {
    for (const d of expandDirs(pattern, fs)) add(d, source);
  };
  for (const d of (env.LD_LIBRARY_PATH ?? "").split(":")) if (d) add(d, "LD_LIBRARY_PATH");
  for (const v of ["CUDA_HOME", "CUDA_PATH"]) {
    const root = env[v];
    if (root) {
      add(join(root, "lib64"), v);
      add(join(root, "targets/x86_64-linux/lib"), v);
    }
  }
  for (const d of ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/lib/wsl/lib"]) add(d, "system");
  add("/usr/local/cuda/lib64", "CUDA toolkit");
  globbed("/usr/local/cuda-*/lib64", "CUDA toolkit");
  globbed("/usr/local/cuda*/targets/x86_64-linux/lib", "CUDA toolkit");
  const roots = [env.VIRTUAL_ENV, env.CONDA_PREFIX, join(env.HOME ?? homedir(), ".local"), ...SITE_ROOTS].filter((r): r is string => !!r);
  for (const root of roots) {
    for (const pkgs of ["site-packages", "dist-packages"]) globbed(`${root}/lib/python3*/${pkgs}/nvidia/*/lib`, "Python wheel");
  }
  if (opts.compat) {
    add("/usr/local/cuda/compat", "CUDA forward-compatibility driver");
    globbed("/usr/local/cuda-*/compat", "CUDA forward-compatibility driver");
  }
  return out;
}

export interface Located {
  /** Existing files named like the library, in search order. */
  readonly candidates: readonly string[];
  readonly searched: readonly SearchDir[];
}

/** Every existing file with one of `names` (in preference order within a folder) across the folders. */
export function locate(names: readonly string[], dirs: readonly SearchDir[], fs: SearchFs = realFs): Located {
  const candidates: string[] = [];
  for (const { dir } of dirs) for (const n of names) if (fs.exists(join(dir, n))) candidates.push(join(dir, n));
  return { candidates, searched: dirs };
}

export interface LoadAttempt {
  readonly path: string;
  readonly error: string;
}

/** One message for a library that could not be loaded: what was wanted, where we looked, what failed. */
export function describeMissing(what: string, names: readonly string[], located: Located, failures: readonly LoadAttempt[]): string {
  const where = located.searched.map((d) => `${d.dir} (${d.source})`).join(", ");
  const tried = failures.map((f) => `${f.path}: ${f.error}`).join("; ");
  if (failures.length === 0) return `${what}: ${names.join(" / ")} not found; searched ${where || "no folders"} and the system loader's cache`;
  return `${what}: ${names.join(" / ")} found but could not be loaded (${tried}); searched ${where || "no folders"}`;
}

export interface Loaded<T> {
  readonly value: T;
  readonly path: string;
}

/**
 * Tries each candidate with `open` (dlopen and whatever checks the caller adds), then the bare names through
 * the system loader; the first that opens wins. Returns the opened value or the message describing why none did.
 */
export function loadFirst<T>(
  what: string,
  names: readonly string[],
  located: Located,
  open: (path: string) => T,
  systemLoader = true,
): Loaded<T> | { readonly error: string } {
  const failures: LoadAttempt[] = [];
  const tries = [...located.candidates, ...(systemLoader ? names : [])];
  for (const path of tries) {
    try {
      return { value: open(path), path };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      // A bare name the system loader does not know is "not found", not a failure worth listing.
      if (!path.includes("/") && /cannot open shared object file|No such file|not found/i.test(msg)) continue;
      failures.push({ path, error: msg.split("\n")[0]! });
    }
  }
  return { error: describeMissing(what, names, located, failures) };
}
