// The CUDA kernels compile (make cuda, nvcc -> one fatbin for sm_80 and sm_90) and every kernel the
// binding launches exists in both cubins with exactly the parameter offsets and sizes our argument packer
// produces (read from the fatbin's .nv.info sections). No GPU needed. The build is cached by a hash of the
// sources, the Makefile and nvcc's version, so CI compiles once per change (~20 s), not once per run.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { layoutArgs } from "../../ffi/cuda/args.ts";
import { parseFatbin } from "../../ffi/cuda/fatbin.ts";
import { FATBIN_PATH, KERNELS } from "../../ffi/cuda/kernels.ts";

const ROOT = join(import.meta.dir, "../..");
const SRC = join(ROOT, "ffi/cuda/src");
const HASH_PATH = `${FATBIN_PATH}.sha256`;

function findNvcc(): string | null {
  for (const d of (process.env.PATH ?? "").split(":")) if (d && existsSync(join(d, "nvcc"))) return join(d, "nvcc");
  for (const d of ["/usr/local/cuda/bin", ...(existsSync("/usr/local") ? readdirSync("/usr/local").filter((n) => n.startsWith("cuda-")).map((n) => `/usr/local/${n}/bin`) : [])]) {
    if (existsSync(join(d, "nvcc"))) return join(d, "nvcc");
  }
  return null;
}

const nvcc = findNvcc();
if (!nvcc) console.log("[cuda] kernel compile test skipped: nvcc not found on PATH or in /usr/local/cuda*/bin");

function sourceHash(nvccPath: string): string {
  const h = createHash("sha256");
  for (const f of readdirSync(SRC).sort()) h.update(f).update(readFileSync(join(SRC, f)));
  h.update(readFileSync(join(ROOT, "Makefile")));
  h.update(Bun.spawnSync([nvccPath, "--version"]).stdout);
  return h.digest("hex");
}

describe.skipIf(!nvcc)("CUDA kernels (nvcc)", () => {
  test(
    "make cuda builds ffi/cuda/build/lft_cuda.fatbin (cached by source hash)",
    () => {
      const hash = sourceHash(nvcc!);
      const cached = existsSync(FATBIN_PATH) && existsSync(HASH_PATH) && readFileSync(HASH_PATH, "utf8") === hash;
      if (cached) {
        console.log(`[cuda] fatbin up to date for source hash ${hash.slice(0, 12)}`);
      } else {
        const t0 = performance.now();
        const r = Bun.spawnSync(["make", "-B", "cuda", `NVCC=${nvcc}`], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
        const log = r.stdout.toString() + r.stderr.toString();
        if (r.exitCode !== 0) throw new Error(`make cuda failed (exit ${r.exitCode}):\n${log}`);
        writeFileSync(HASH_PATH, hash);
        console.log(`[cuda] make cuda: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
      expect(existsSync(FATBIN_PATH)).toBe(true);
    },
    600_000,
  );

  test("the fatbin holds readable cubins for sm_80 and sm_90", () => {
    const info = parseFatbin(new Uint8Array(readFileSync(FATBIN_PATH)));
    expect(info.cubins.map((c) => c.sm).sort()).toEqual([80, 90]);
    expect(info.skipped).toEqual([]);
  });

  test("every kernel in ffi/cuda/kernels.ts exists in each cubin with the packer's parameter layout", () => {
    const info = parseFatbin(new Uint8Array(readFileSync(FATBIN_PATH)));
    const problems: string[] = [];
    for (const cubin of info.cubins) {
      for (const [name, types] of KERNELS) {
        const params = cubin.kernels.get(name);
        if (!params) {
          problems.push(`sm_${cubin.sm}: ${name} is missing`);
          continue;
        }
        const l = layoutArgs(types);
        const got = params.map((p) => `${p.offset}:${p.size}`).join(" ");
        const want = l.offsets.map((o, i) => `${o}:${l.sizes[i]}`).join(" ");
        if (got !== want) problems.push(`sm_${cubin.sm}: ${name} has params (offset:size) ${got}, the table packs ${want}`);
      }
      for (const k of cubin.kernels.keys()) if (!KERNELS.has(k)) problems.push(`sm_${cubin.sm}: ${k} is compiled but not in the kernel table`);
    }
    expect(problems).toEqual([]);
    expect(KERNELS.size).toBeGreaterThan(90);
  });
});

test("the fatbin parser rejects what is not a fatbin", () => {
  expect(() => parseFatbin(new Uint8Array(64))).toThrow("not a fatbin");
});
