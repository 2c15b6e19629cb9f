// Finding the NVIDIA libraries (ffi/cuda/locate.ts) without a GPU: the search order, Python wheels'
// nvidia/*/lib folders, the toolkit stubs left out, and messages that say what was searched and what
// failed. Uses real temporary folders, so the same code path as on a GPU machine runs.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCublas } from "../../ffi/cuda/cublas.ts";
import { DRIVER_NAMES, loadDriver } from "../../ffi/cuda/driver.ts";
import { describeMissing, expandDirs, loadFirst, locate, searchDirs } from "../../ffi/cuda/locate.ts";

const root = mkdtempSync(join(tmpdir(), "lft-cuda-locate-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function dir(...parts: string[]): string {
  const d = join(root, ...parts);
  mkdirSync(d, { recursive: true });
  return d;
}

describe("searchDirs", () => {
  test("LD_LIBRARY_PATH first, then CUDA_HOME, then system folders; missing folders and stubs are skipped", () => {
    const a = dir("ld-a");
    const b = dir("ld-b");
    const cudaHome = dir("cuda-home");
    dir("cuda-home", "lib64");
    const stubs = dir("cuda-home", "lib64", "stubs");
    const env = { LD_LIBRARY_PATH: `${a}:${join(root, "missing")}:${b}:${stubs}:${a}`, CUDA_HOME: cudaHome, HOME: root };
    const dirs = searchDirs(env);
    expect(dirs.slice(0, 3)).toEqual([
      { dir: a, source: "LD_LIBRARY_PATH" },
      { dir: b, source: "LD_LIBRARY_PATH" },
      { dir: join(cudaHome, "lib64"), source: "CUDA_HOME" },
    ]);
    expect(dirs.some((d) => d.dir.includes("missing") || d.dir.endsWith("stubs"))).toBe(false);
  });

  test("a folder reached twice through a symlink is searched once", () => {
    const real = dir("real-lib");
    const link = join(root, "link-lib");
    symlinkSync(real, link);
    const dirs = searchDirs({ LD_LIBRARY_PATH: `${real}:${link}`, HOME: root });
    expect(dirs.filter((d) => d.dir === real || d.dir === link)).toEqual([{ dir: real, source: "LD_LIBRARY_PATH" }]);
  });

  test("Python wheels' nvidia/*/lib folders under a virtualenv are found (as on the GPU machine's /opt/torch/.venv)", () => {
    const venv = join(root, "venv");
    const cublasLib = dir("venv", "lib", "python3.12", "site-packages", "nvidia", "cublas", "lib");
    const rtLib = dir("venv", "lib", "python3.12", "site-packages", "nvidia", "cuda_runtime", "lib");
    writeFileSync(join(cublasLib, "libcublas.so.12"), "not really a library");
    const dirs = searchDirs({ VIRTUAL_ENV: venv, HOME: root });
    const wheel = dirs.filter((d) => d.source === "Python wheel").map((d) => d.dir);
    expect(wheel).toContain(cublasLib);
    expect(wheel).toContain(rtLib);
    expect(locate(["libcublas.so.13", "libcublas.so.12"], dirs).candidates).toEqual([join(cublasLib, "libcublas.so.12")]);
  });

  test("the forward-compatibility driver folders come only when asked (for libcuda), after everything else", () => {
    const plain = searchDirs({ HOME: root });
    const withCompat = searchDirs({ HOME: root }, { compat: true });
    expect(plain.some((d) => d.source.includes("compatibility"))).toBe(false);
    const firstCompat = withCompat.findIndex((d) => d.source.includes("compatibility"));
    if (firstCompat >= 0) expect(withCompat.slice(firstCompat).every((d) => d.source.includes("compatibility"))).toBe(true);
  });
});

test("expandDirs expands * within a segment, sorted, directories only", () => {
  dir("glob", "python3.11", "nvidia", "b", "lib");
  dir("glob", "python3.12", "nvidia", "a", "lib");
  writeFileSync(join(dir("glob", "python3.12", "nvidia", "c"), "lib"), "a file, not a folder");
  expect(expandDirs(join(root, "glob/python3*/nvidia/*/lib"))).toEqual([
    join(root, "glob/python3.11/nvidia/b/lib"),
    join(root, "glob/python3.12/nvidia/a/lib"),
  ]);
  expect(expandDirs(join(root, "glob/nothing*/x"))).toEqual([]);
});

describe("loading and its messages", () => {
  test("a file that is found but is not a loadable library is reported with its path and the loader's error", () => {
    const d = dir("fake-driver");
    writeFileSync(join(d, "libcuda.so.1"), "garbage");
    const located = locate(DRIVER_NAMES, [{ dir: d, source: "LD_LIBRARY_PATH" }]);
    expect(located.candidates).toEqual([join(d, "libcuda.so.1")]);
    const r = loadFirst(
      "the CUDA driver",
      DRIVER_NAMES,
      located,
      () => {
        throw new Error(`Failed to open library "${join(d, "libcuda.so.1")}": file too short`);
      },
      false,
    );
    expect("error" in r).toBe(true);
    const msg = (r as { error: string }).error;
    expect(msg).toContain("found but could not be loaded");
    expect(msg).toContain(`${join(d, "libcuda.so.1")}: Failed to open library`);
    expect(msg).toContain(`searched ${d} (LD_LIBRARY_PATH)`);
  });

  test("nothing found: the message names the library and every folder searched", () => {
    const msg = describeMissing("cuBLAS", ["libcublas.so.12"], { candidates: [], searched: [{ dir: "/x/lib", source: "Python wheel" }] }, []);
    expect(msg).toBe("cuBLAS: libcublas.so.12 not found; searched /x/lib (Python wheel) and the system loader's cache");
  });

  test("the first candidate that opens wins, after earlier ones fail", () => {
    const located = { candidates: ["/a/libcuda.so.1", "/b/libcuda.so.1"], searched: [] };
    const r = loadFirst(
      "x",
      ["libcuda.so.1"],
      located,
      (p) => {
        if (p.startsWith("/a")) throw new Error("wrong ELF class");
        return p.length;
      },
      false,
    );
    expect(r).toEqual({ value: "/b/libcuda.so.1".length, path: "/b/libcuda.so.1" });
  });

  test("a garbage libcuda.so.1 first on LD_LIBRARY_PATH is never the one loaded", () => {
    const d = dir("fake-driver-2");
    writeFileSync(join(d, "libcuda.so.1"), "garbage");
    const r = loadDriver({ ...process.env, LD_LIBRARY_PATH: d });
    if (r.ok) {
      // a GPU machine: the real driver further down the search order was loaded instead
      expect(r.path).not.toBe(join(d, "libcuda.so.1"));
    } else {
      expect(r.reason).toContain(join(d, "libcuda.so.1"));
      expect(r.reason).toContain("found but could not be loaded");
    }
  });

  test("on this machine: the driver and cuBLAS are either loaded (with their paths) or missing with the reason", () => {
    const d = loadDriver();
    const b = loadCublas();
    console.log(`[cuda] driver: ${d.ok ? `loaded ${d.path}` : d.reason}`);
    console.log(`[cuda] cuBLAS: ${b.ok ? `loaded ${b.path} (cuBLASLt ${b.ltPath ?? "resolved by libcublas itself"})` : b.reason}`);
    if (d.ok) expect(d.path).toMatch(/libcuda\.so/);
    else expect(d.reason).toMatch(/^the CUDA driver: libcuda\.so\.1 \/ libcuda\.so (not found|found but could not be loaded)/);
    if (b.ok) expect(b.path).toMatch(/libcublas\.so/);
    else expect(b.reason).toMatch(/^cuBLAS: libcublas\.so\.13 \/ libcublas\.so\.12 \/ libcublas\.so (not found|found but could not be loaded)/);
  });
});
