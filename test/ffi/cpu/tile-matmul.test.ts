// The attention kernel's tile matmul (ffi/cpu/src/tile_matmul.h) against float64, compiled once per
// instruction set this CPU runs: -march=native (AVX-512 here: 16-float vectors, 8-row blocks) and
// x86-64-v3 (AVX2: 8 and 4, the GPU machine's portable build), so both block shapes are checked on every
// run, not only the one the library was built with. The C side is fixtures/tile_matmul_check.c.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../../..");
const gcc = ["gcc", "cc"].find((c) => Bun.spawnSync(["sh", "-c", `command -v ${c}`]).exitCode === 0) ?? null;
const flags = readFileSync("/proc/cpuinfo", "utf8");
const hasAvx2 = /\bavx2\b/.test(flags) && /\bfma\b/.test(flags);
const dir = mkdtempSync(join(tmpdir(), "lft-tile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(march: string): { code: number; out: string } {
  const exe = join(dir, `check-${march}`);
  const src = join(import.meta.dir, "fixtures/tile_matmul_check.c");
  const built = Bun.spawnSync(
    [gcc!, "-O3", `-march=${march}`, "-std=c11", "-Wall", "-Wextra", "-Werror", `-I${join(ROOT, "ffi/cpu/src")}`, "-o", exe, src, "-lm"],
    { stderr: "pipe" },
  );
  if (built.exitCode !== 0) throw new Error(`building the check with -march=${march} failed: ${built.stderr}`);
  const r = Bun.spawnSync([exe], { stdout: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() };
}

describe.skipIf(!gcc)("tile_matmul.h against float64", () => {
  const marches = ["native", ...(hasAvx2 ? ["x86-64-v3"] : [])];
  for (const march of marches)
    test(`-march=${march}: every shape, stride and tail within 1e-5`, () => {
      const { code, out } = run(march);
      expect(out).not.toContain("OFF");
      expect(out.match(/: ok/g)?.length).toBe(50);
      expect(code).toBe(0);
    });

  test.skipIf(!hasAvx2)("the AVX2 build takes 8-float vectors in 4-row blocks", () => {
    expect(run("x86-64-v3").out).toStartWith("vector width 8, row block 4");
  });
});
