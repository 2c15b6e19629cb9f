// ZeRO-1 inside core's train() under `mpirun -n 2` (the tiny decoder, data parallelism over MPI): the
// sharded 2-rank loss curve equals the plain 2-rank one and one rank accumulating the same global batch;
// weights stay identical on both ranks; each rank holds half the AdamW state; checkpoints written by the
// sharded job (state gathered on every rank, saved by rank 0) resume on one plain rank and back.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mpiMissing, runRanks } from "../dist/mpi-env.ts";

const WORKER = join(import.meta.dir, "fixtures/zero-train-worker.ts");
const missing = mpiMissing();
if (missing) console.log(`[zero] train() under mpirun skipped: ${missing}`);

interface Out {
  losses: number[];
  resumedFromStep: number | null;
  weights: Record<string, number[]>;
  stateBytes: number;
}
const dir = mkdtempSync(join(tmpdir(), "lft-zero-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(ranks: number, name: string, env: Record<string, string>): Promise<Out[]> {
  const out = join(dir, name);
  const r = await runRanks(ranks, WORKER, { OUT: out, ...env });
  if (r.code !== 0) throw new Error(`${ranks} rank(s) exited ${r.code}: ${r.stderr}`);
  return Array.from({ length: Math.max(ranks, 1) }, (_, rank) => JSON.parse(readFileSync(`${out}.rank${rank}.json`, "utf8")) as Out);
}
const maxDiff = (a: readonly number[], b: readonly number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
// As the DDP test: the rank sum adds the same weighted gradients in another order (f32), ~1e-7 relative.
const TOL = 1e-5;

describe.skipIf(missing !== null)("ZeRO-1 in train() over MPI (2 ranks)", () => {
  test("same curve as plain DDP and one accumulating rank; identical weights; half the state per rank", async () => {
    const [one] = await run(0, "one", { ACCUMULATION: "2" });
    const plain = await run(2, "plain", {});
    const zero = await run(2, "zero", { ZERO: "1" });
    expect(maxDiff(zero[0]!.losses, one!.losses)).toBeLessThan(TOL);
    expect(maxDiff(zero[0]!.losses, plain[0]!.losses)).toBeLessThan(TOL);
    expect(zero[1]!.weights).toEqual(zero[0]!.weights);
    for (const [n, w] of Object.entries(plain[0]!.weights)) expect(maxDiff(zero[0]!.weights[n]!, w)).toBeLessThan(TOL);
    // Half of the whole state on each rank (the slices are equal but for the last one's padding).
    const whole = plain[0]!.stateBytes;
    expect(one!.stateBytes).toBe(whole);
    for (const z of zero) expect(Math.abs(z.stateBytes - whole / 2)).toBeLessThanOrEqual(8);
    expect(zero[0]!.stateBytes + zero[1]!.stateBytes).toBe(whole);
  }, 90_000);

  test("a sharded checkpoint resumes on one plain rank, and a plain one on 2 sharded ranks, on the same curve", async () => {
    const [full] = await run(0, "full", { STEPS: "4", ACCUMULATION: "2" });
    const down = join(dir, "ck-down");
    await run(2, "down-a", { STEPS: "2", ZERO: "1", CKDIR: down });
    const [resumed] = await run(0, "down-b", { STEPS: "4", ACCUMULATION: "2", CKDIR: down });
    expect(resumed!.resumedFromStep).toBe(2);
    expect(maxDiff(resumed!.losses, full!.losses)).toBeLessThan(TOL);
    const up = join(dir, "ck-up");
    await run(0, "up-a", { STEPS: "2", ACCUMULATION: "2", CKDIR: up });
    const two = await run(2, "up-b", { STEPS: "4", ZERO: "1", CKDIR: up });
    expect(two[0]!.resumedFromStep).toBe(2);
    expect(maxDiff(two[0]!.losses, full!.losses)).toBeLessThan(TOL);
    expect(two[1]!.weights).toEqual(two[0]!.weights);
  }, 90_000);
});
