// `zero = 1` in a recipe under `mpirun -n 2 bun lft recipe.lft` (stories260K, full fine-tuning, 3 steps):
// the logged losses equal the plain 2-rank run and one rank accumulating the same global batch (the log
// rounds to 4 decimals), and the checkpoint the sharded job writes holds the whole AdamW state, keyed as a
// plain run's, so it resumes with any number of ranks.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSafetensors } from "../../../core/index.ts";
import { BUN, MPI_ENV, mpiMissing, ROOT } from "../dist/mpi-env.ts";

const missing = mpiMissing();
if (missing) console.log(`[zero] recipe under mpirun skipped: ${missing}`);
const dir = mkdtempSync(join(tmpdir(), "lft-zero-recipe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recipe(name: string, extra: string): string {
  const path = join(dir, `${name}.lft`);
  writeFileSync(
    path,
    `model llama "${ROOT}/examples/models/stories260K" { dtype = f32 }
dataset text "${ROOT}/examples/data/wiki.train.txt" { max_samples = 64 }
method full
train pt for 3 steps {
  lr = 1e-3
  batch = 2
  cutoff = 64
  seed = 1
  log_every = 1
  ${extra}
  output = "${join(dir, name)}"
}
`,
  );
  return path;
}

function launch(ranks: number, name: string, extra: string) {
  const cli = [BUN, join(ROOT, "dsl/cli.ts"), recipe(name, extra)];
  const cmd = ranks === 1 ? cli : ["mpirun", "-n", String(ranks), "--oversubscribe", ...cli];
  const env = { ...process.env, ...MPI_ENV, LFT_HOME: join(dir, "home") };
  const r = Bun.spawnSync(cmd, { cwd: ROOT, env, stdout: "pipe", stderr: "pipe", timeout: 40_000 });
  return { code: r.exitCode, text: `${r.stdout}${r.stderr}`, cmd: cmd.join(" ") };
}

function run(ranks: number, name: string, extra: string): number[] {
  const r = launch(ranks, name, extra);
  if (r.code !== 0) throw new Error(`${r.cmd} exited ${r.code}: ${r.text}`);
  if (extra.includes("zero = 1")) expect(r.text).toContain("optimizer state sharded over the 2 ranks (zero = 1)");
  return readFileSync(join(dir, name, "trainer_log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { loss: number }).loss);
}

describe.skipIf(missing !== null)("zero = 1 in a recipe (mpirun -n 2)", () => {
  test("same logged losses as plain 2 ranks and 1 rank × accumulate 2; the checkpoint holds the whole state", () => {
    const zero = run(2, "zero", "zero = 1");
    const plain = run(2, "plain", "");
    const one = run(1, "one", "accumulate = 2");
    expect(zero.length).toBe(3);
    for (const [i, l] of zero.entries()) {
      expect(Math.abs(l - plain[i]!)).toBeLessThanOrEqual(2e-4);
      expect(Math.abs(l - one[i]!)).toBeLessThanOrEqual(2e-4);
    }
    const state = (name: string) => openSafetensors(join(dir, name, "checkpoint-3", "optimizer.safetensors"))._unsafeUnwrap();
    const z = state("zero");
    const p = state("plain");
    expect([...z.names()].sort()).toEqual([...p.names()].sort());
    expect(p.names().length).toBeGreaterThan(0);
    for (const n of p.names()) expect(z.info(n)._unsafeUnwrap().shape).toEqual(p.info(n)._unsafeUnwrap().shape);
    z.close();
    p.close();
  }, 120_000);

  test("zero = 1 with an optimizer whose state is not element-wise fails, naming it and the way out", () => {
    const r = launch(2, "muon", "zero = 1\n  optimizer = muon");
    expect(r.code).not.toBe(0);
    expect(r.text).toContain('"muon" does not declare');
    expect(r.text).toContain("use adamw or sgd, or zero = 0");
  }, 60_000);
});
