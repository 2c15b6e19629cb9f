// BAdam survives kill -9: a run killed after a checkpoint taken mid-block (blocks switch every 3 steps,
// checkpoints every 2), resumed in a new process, crosses the next block switches and ends with the
// uninterrupted run's losses and weights, bit for bit.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { latestCheckpoint } from "../../../core/index.ts";

const FIXTURE = join(import.meta.dir, "fixtures", "badam-run.ts");
const STEPS = 12;

const spawnRun = (dir: string, extra: string[] = []) =>
  Bun.spawn([process.execPath, FIXTURE, "--dir", dir, "--steps", String(STEPS), ...extra], { stdout: "pipe", stderr: "pipe" });

async function finish(p: ReturnType<typeof spawnRun>) {
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  return { code: p.exitCode, signal: p.signalCode === null ? null : String(p.signalCode), out, err };
}

interface Outcome {
  losses: number[];
  resumedFromStep?: number;
  weights: Record<string, number[]>;
}

test("BAdam: SIGKILL after a mid-block checkpoint, resumed in a new process, is bit-identical", async () => {
  const root = mkdtempSync(join(tmpdir(), "lft-badam-kill-"));
  try {
    const full = await finish(spawnRun(join(root, "a"), ["--out", join(root, "a.json")]));
    expect(full.err).toBe("");
    const a = JSON.parse(readFileSync(join(root, "a.json"), "utf8")) as Outcome;

    const dirB = join(root, "b");
    const victim = spawnRun(dirB, ["--slow", "60"]);
    const deadline = Date.now() + 30_000;
    // Checkpoint 4 is inside block 1 (steps 4-6), with that block's moments after one update.
    while ((latestCheckpoint(dirB)?.step ?? 0) < 4) {
      if (victim.exitCode !== null || Date.now() > deadline) throw new Error("the run ended before checkpoint 4");
      await Bun.sleep(5);
    }
    victim.kill(9);
    const killed = await finish(victim);
    expect(killed.signal).toBe("SIGKILL");

    const resumed = await finish(spawnRun(dirB, ["--out", join(root, "b.json")]));
    expect(resumed.err).toBe("");
    const b = JSON.parse(readFileSync(join(root, "b.json"), "utf8")) as Outcome;
    expect(b.resumedFromStep).toBeGreaterThanOrEqual(4);
    expect(b.resumedFromStep).toBeLessThan(STEPS - 3);
    expect(b.losses).toEqual(a.losses);
    expect(b.weights).toEqual(a.weights);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}, 60_000);
