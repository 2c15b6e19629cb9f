// Checkpoints and resume. The main test kills a training process with SIGKILL right after it has
// saved a checkpoint, resumes it in a new process, and requires the full loss curve (and the final
// weights and optimizer state, byte for byte) to equal an uninterrupted run's. Also: SIGTERM ends a
// run as "interrupted" with a checkpoint, the run store marks a killed run "crashed", incomplete
// checkpoint folders are ignored, and a checkpoint that does not fit the run is refused.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { latestCheckpoint, listCheckpoints, RunStore, train } from "../../../core/index.ts";
import { adamw } from "../../../plugins/optimizers/index.ts";
import { tinyBatches, tinyRun } from "./tiny-run.ts";

const FIXTURE = join(import.meta.dir, "fixtures", "resume-run.ts");
const STEPS = 24;

interface Outcome {
  losses: number[];
  status: string;
  step: number;
  resumedFromStep?: number;
}

function spawnRun(dir: string, extra: string[] = []) {
  return Bun.spawn([process.execPath, FIXTURE, "--dir", dir, "--steps", String(STEPS), "--every", "4", ...extra], { stdout: "pipe", stderr: "pipe" });
}

async function finish(p: ReturnType<typeof spawnRun>): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  return { code: p.exitCode, signal: p.signalCode === null ? null : String(p.signalCode), out, err };
}

async function waitForCheckpoint(dir: string, step: number, p: ReturnType<typeof spawnRun>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((latestCheckpoint(dir)?.step ?? 0) < step) {
    if (p.exitCode !== null) throw new Error(`the run exited (${p.exitCode}) before checkpoint ${step}: ${await new Response(p.stderr).text()}`);
    if (Date.now() > deadline) throw new Error(`no checkpoint ${step} in ${dir} after 30 s`);
    await Bun.sleep(5);
  }
}

/** "step <n> <loss>" lines → n → loss, parsed from JS's shortest round-trip text (exact). */
function printedLosses(out: string): Map<number, number> {
  return new Map(
    out
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [, n, v] = l.split(" ");
        return [Number(n), Number(v)] as const;
      }),
  );
}

describe("resume after a real kill", () => {
  test("SIGKILL after a checkpoint, resumed in a new process: the loss curve is bit-identical", async () => {
    const root = mkdtempSync(join(tmpdir(), "lft-resume-"));
    try {
      const full = await finish(spawnRun(join(root, "a"), ["--out", join(root, "a.json")]));
      expect(full.err).toBe("");
      expect(full.code).toBe(0);
      const a = JSON.parse(readFileSync(join(root, "a.json"), "utf8")) as Outcome;
      expect(a.losses).toHaveLength(STEPS);

      // Slowed down (sleeping between steps, computing the same) so the kill lands mid-run.
      const dirB = join(root, "b");
      const db = join(root, "runs.db");
      const victim = spawnRun(dirB, ["--slow", "40", "--store", db]);
      await waitForCheckpoint(dirB, 8, victim);
      victim.kill(9);
      const killed = await finish(victim);
      expect(killed.signal).toBe("SIGKILL");
      const before = printedLosses(killed.out);
      const reached = Math.max(...before.keys());
      expect(reached).toBeGreaterThanOrEqual(8);
      expect(reached).toBeLessThan(STEPS);
      // The killed process had computed the same losses as the uninterrupted one up to its death.
      for (const [n, v] of before) expect(v).toBe(a.losses[n - 1]!);

      // The store, opened after the kill, no longer claims the run is running.
      const store = RunStore.open(db)._unsafeUnwrap();
      const crashed = store.getRun("resume-test")._unsafeUnwrap();
      expect(crashed.status).toBe("crashed");
      expect(crashed.error).toMatch(/ended without recording an end \(killed or crashed\)/);
      store.close();

      const resumed = await finish(spawnRun(dirB, ["--store", db, "--out", join(root, "b.json")]));
      expect(resumed.err).toBe("");
      expect(resumed.code).toBe(0);
      const b = JSON.parse(readFileSync(join(root, "b.json"), "utf8")) as Outcome;
      const from = b.resumedFromStep!;
      expect(from).toBeGreaterThanOrEqual(8);
      expect(from).toBeLessThan(STEPS);
      expect(Math.min(...printedLosses(resumed.out).keys())).toBe(from + 1);
      // Exactly equal doubles, every step: weights, moments, schedule, dropout stream and data cursor all resumed.
      expect(b.losses).toEqual(a.losses);
      expect(b.status).toBe("completed");
      for (const f of ["model.safetensors", "optimizer.safetensors", "rng.json", "data.json"]) {
        expect(Buffer.compare(readFileSync(join(dirB, `checkpoint-${STEPS}`, f)), readFileSync(join(root, "a", `checkpoint-${STEPS}`, f)))).toBe(0);
      }
      // keep = 2
      expect(listCheckpoints(dirB).map((c) => c.step)).toEqual([20, 24]);

      const after = RunStore.open(db)._unsafeUnwrap();
      const run = after.getRun("resume-test")._unsafeUnwrap();
      expect(run.status).toBe("completed");
      expect(run.step).toBe(STEPS);
      expect(after.metric(run.id, "loss").map((p) => p.value)).toEqual(a.losses);
      expect(after.events(run.id).map((e) => e.kind)).toEqual(["started", "crashed", "resumed", "completed"]);
      after.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);

  test("SIGTERM stops after the current step, saves a checkpoint there, and records 'interrupted'", async () => {
    const root = mkdtempSync(join(tmpdir(), "lft-sigterm-"));
    try {
      const dir = join(root, "run");
      const db = join(root, "runs.db");
      const p = spawnRun(dir, ["--slow", "40", "--store", db, "--out", join(root, "out.json")]);
      await waitForCheckpoint(dir, 4, p);
      p.kill("SIGTERM");
      const r = await finish(p);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const out = JSON.parse(readFileSync(join(root, "out.json"), "utf8")) as Outcome;
      expect(out.status).toBe("interrupted");
      expect(out.step).toBeLessThan(STEPS);
      expect(latestCheckpoint(dir)!.step).toBe(out.step);
      const store = RunStore.open(db)._unsafeUnwrap();
      const run = store.getRun("resume-test")._unsafeUnwrap();
      expect(run.status).toBe("interrupted");
      expect(run.step).toBe(out.step);
      store.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("checkpoint folders", () => {
  const base = (dir: string, run: ReturnType<typeof tinyRun>) => ({
    params: run.params,
    optimizer: adamw({ lr: 1e-2 }),
    schedule: { kind: "linear", warmupSteps: 2 } as const,
    steps: 6,
    batches: tinyBatches(8),
    lossFn: run.lossFn,
    progress: false as const,
    checkpoint: { dir, every: 2, keep: 2 },
  });

  test("an incomplete (temp) folder is ignored: resume uses the newest complete checkpoint and cleans up", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lft-ck-"));
    try {
      const first = tinyRun();
      (await train({ ...base(dir, first), steps: 4 }))._unsafeUnwrap();
      first.dispose();
      // What a process killed mid-save leaves (pid 2^22 + 1 is above Linux's pid_max default, never alive).
      const stale = join(dir, ".tmp-checkpoint-6-4194305");
      mkdirSync(stale);
      writeFileSync(join(stale, "model.safetensors"), "partial");
      const second = tinyRun();
      const r = (await train(base(dir, second)))._unsafeUnwrap();
      expect(r.resumedFromStep).toBe(4);
      expect(listCheckpoints(dir).map((c) => c.step)).toEqual([4, 6]);
      expect(() => readFileSync(join(stale, "model.safetensors"))).toThrow();
      second.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a checkpoint from another parameter set or schedule is refused, naming the difference", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lft-ck-"));
    try {
      const first = tinyRun();
      (await train({ ...base(dir, first), steps: 2 }))._unsafeUnwrap();
      first.dispose();
      const other = tinyRun();
      const { head: _, ...noHead } = other.params;
      const e1 = (await train({ ...base(dir, other), params: noHead }))._unsafeUnwrapErr();
      expect(e1.reason).toBe("checkpoint");
      expect(e1.message).toMatch(/trained a different parameter set \(only in the checkpoint: head; only in this run: none\)/);
      const e2 = (await train({ ...base(dir, other), schedule: { kind: "cosine", warmupSteps: 2 } }))._unsafeUnwrapErr();
      expect(e2.message).toMatch(/the schedule changed \(kind: checkpoint "linear", this run "cosine"\)/);
      // Truncated weights (not something our atomic save leaves, but disks fail) are reported, not loaded.
      writeFileSync(join(dir, "checkpoint-2", "model.safetensors"), new Uint8Array(12));
      const e3 = (await train(base(dir, other)))._unsafeUnwrapErr();
      expect(e3.message).toMatch(/cannot resume from .*checkpoint-2: .*model\.safetensors/);
      // resume: false starts afresh (and overwrites the old folders as it goes).
      const fresh = (await train({ ...base(dir, other), checkpoint: { dir, every: 2, resume: false } }))._unsafeUnwrap();
      expect(fresh.resumedFromStep).toBeUndefined();
      expect(fresh.step).toBe(6);
      other.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
