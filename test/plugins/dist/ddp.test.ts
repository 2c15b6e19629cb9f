// Data parallelism over MPI with 2 ranks on the tiny decoder: the 2-rank loss curve equals one rank
// accumulating the same global batch, weights stay identical across ranks, checkpoints resume with a
// different rank count, and a rank killed mid-run fails the job naming it, leaving a resumable checkpoint.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mpiMissing, runRanks } from "./mpi-env.ts";

const WORKER = join(import.meta.dir, "ddp-worker.ts");
const missing = mpiMissing();
if (missing) test.skip(`DDP over MPI: skipped, ${missing}`, () => {});

interface Out {
  rank: number;
  size: number;
  engine: string;
  losses: number[];
  resumedFromStep: number | null;
  weights: Record<string, number[]>;
}

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lft-ddp-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(ranks: number, name: string, env: Record<string, string>): Promise<Out[]> {
  const out = join(dir, name);
  const r = await runRanks(ranks, WORKER, { DDP_OUT: out, ...env });
  if (r.code !== 0) throw new Error(`${ranks} rank(s) exited ${r.code}: ${r.stderr}`);
  return Array.from({ length: Math.max(ranks, 1) }, (_, rank) => JSON.parse(readFileSync(`${out}.rank${rank}.json`, "utf8")) as Out);
}

const maxDiff = (a: readonly number[], b: readonly number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

// Float tolerance: the 2-rank sum adds the same two weighted gradients as one rank's accumulation, in
// f32 through MPI instead of axpy, and the loss sum is carried in f32 rather than f64 (~1e-7 relative).
const TOL = 1e-5;

describe.skipIf(missing !== null)("DDP over MPI (2 ranks)", () => {
  test("2 ranks × batch b equal 1 rank × batch b × accumulation 2; weights identical on both ranks", async () => {
    const [one] = await run(0, "one", { DDP_STEPS: "4", DDP_ACCUMULATION: "2" });
    const two = await run(2, "two", { DDP_STEPS: "4" });
    expect(one!.engine).toBe("single");
    expect(two.map((o) => [o.engine, o.rank, o.size])).toEqual([
      ["mpi", 0, 2],
      ["mpi", 1, 2],
    ]);
    expect(maxDiff(two[0]!.losses, one!.losses)).toBeLessThan(TOL);
    expect(two[1]!.losses).toEqual(two[0]!.losses);
    for (const name of Object.keys(one!.weights)) {
      expect(two[1]!.weights[name]).toEqual(two[0]!.weights[name]!);
      expect(maxDiff(two[0]!.weights[name]!, one!.weights[name]!)).toBeLessThan(TOL);
    }
  }, 60_000);

  test("a checkpoint of 2 ranks resumes on 1, and one of 1 rank on 2, on the same curve", async () => {
    const [full] = await run(0, "full", { DDP_STEPS: "4", DDP_ACCUMULATION: "2" });
    const down = join(dir, "ck-down");
    await run(2, "down-a", { DDP_STEPS: "2", DDP_CKDIR: down });
    const [resumed] = await run(0, "down-b", { DDP_STEPS: "4", DDP_ACCUMULATION: "2", DDP_CKDIR: down });
    expect(resumed!.resumedFromStep).toBe(2);
    expect(maxDiff(resumed!.losses, full!.losses)).toBeLessThan(TOL);
    const up = join(dir, "ck-up");
    await run(0, "up-a", { DDP_STEPS: "2", DDP_ACCUMULATION: "2", DDP_CKDIR: up });
    const two = await run(2, "up-b", { DDP_STEPS: "4", DDP_CKDIR: up });
    expect(two[0]!.resumedFromStep).toBe(2);
    expect(maxDiff(two[0]!.losses, full!.losses)).toBeLessThan(TOL);
    expect(two[1]!.weights).toEqual(two[0]!.weights);
  }, 90_000);

  test("a rank killed mid-run fails the job naming the rank; its last checkpoint resumes", async () => {
    const ck = join(dir, "ck-kill");
    const killed = await runRanks(2, WORKER, { DDP_OUT: join(dir, "kill"), DDP_STEPS: "6", DDP_CKDIR: ck, DDP_KILL_RANK: "1", DDP_KILL_STEP: "4" });
    expect(killed.code).not.toBe(0);
    expect(`${killed.stdout}${killed.stderr}`).toMatch(/rank 1\b.*(killed|signal 9)/is);
    expect(readdirSync(ck).filter((n) => n.startsWith("checkpoint-"))).toContain("checkpoint-3");
    const [resumed] = await run(0, "kill-resume", { DDP_STEPS: "6", DDP_ACCUMULATION: "2", DDP_CKDIR: ck });
    const [full] = await run(0, "kill-full", { DDP_STEPS: "6", DDP_ACCUMULATION: "2" });
    expect(resumed!.resumedFromStep).toBe(3);
    expect(maxDiff(resumed!.losses, full!.losses)).toBeLessThan(TOL);
  }, 90_000);
});
