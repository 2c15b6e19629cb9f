// The run store: a full round trip through a reopened file, crash marking of runs whose process is
// gone, resume bookkeeping, refusal of bad input without partial writes, and the train() wiring
// (storeHooks). What `lft runs` prints is tested with the command (test/plugins/commands).
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunStore, storeHooks, train } from "../../../core/index.ts";
import { adamw } from "../../../plugins/optimizers/index.ts";
import { tinyBatches, tinyRun } from "../train/tiny-run.ts";

let dir: string;
let db: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lft-store-"));
  db = join(dir, "runs.db");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("run store", () => {
  test("round trip: run, params, metrics, artifacts, events survive reopening; WAL mode", () => {
    const s = RunStore.open(db)._unsafeUnwrap();
    s.startRun({
      id: "r1",
      name: "sft-tiny",
      recipe: "model tiny\nmethod lora\n",
      config: { lr: 1e-4, lora: { rank: 8, targets: ["q", "v"] } },
      gitRevision: "abc123",
      totalSteps: 3,
      startedAt: 1000,
    })._unsafeUnwrap();
    for (const [step, loss] of [
      [1, 2.5],
      [2, 2.25],
      [3, 2.0],
    ] as const)
      s.recordMetrics("r1", step, { loss, lr: 1e-4 })._unsafeUnwrap();
    s.recordMetrics("r1", 3, { "eval/val/loss": 2.1 }, false)._unsafeUnwrap();
    s.addArtifact("r1", { kind: "checkpoint", path: "/runs/r1/checkpoint-3", step: 3 })._unsafeUnwrap();
    s.endRun("r1", "completed", { step: 3, at: 5000 })._unsafeUnwrap();
    s.close();

    const raw = new Database(db);
    expect((raw.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
    raw.close();

    const t = RunStore.open(db)._unsafeUnwrap();
    const r = t.getRun("r1")._unsafeUnwrap();
    expect(r).toMatchObject({
      id: "r1",
      name: "sft-tiny",
      recipe: "model tiny\nmethod lora\n",
      gitRevision: "abc123",
      status: "completed",
      startedAt: 1000,
      endedAt: 5000,
      step: 3,
      totalSteps: 3,
    });
    expect(r.configHash).toMatch(/^[0-9a-f]{16}$/);
    // The hash does not depend on key order.
    t.startRun({ id: "r2", config: { lora: { targets: ["q", "v"], rank: 8 }, lr: 1e-4 } })._unsafeUnwrap();
    expect(t.getRun("r2")._unsafeUnwrap().configHash).toBe(r.configHash);
    expect(t.params("r1")).toEqual({ lr: "0.0001", "lora.rank": "8", "lora.targets": '["q","v"]' });
    expect(t.metric("r1", "loss")).toEqual([
      { step: 1, value: 2.5 },
      { step: 2, value: 2.25 },
      { step: 3, value: 2 },
    ]);
    expect(t.metricNames("r1")).toEqual(["eval/val/loss", "loss", "lr"]);
    expect(t.artifacts("r1").map((a) => [a.kind, a.step, a.path])).toEqual([["checkpoint", 3, "/runs/r1/checkpoint-3"]]);
    expect(t.events("r1").map((e) => e.kind)).toEqual(["started", "completed"]);
    t.close();
  });

  test("a run left 'running' by a process that is gone is marked crashed on open; live and foreign ones are not", async () => {
    const p = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "orphan-run.ts"), db, "orphan"], { stderr: "pipe" });
    expect(await p.exited).toBe(0);
    // This process's own run, and one claimed by another host (its pid cannot be checked from here).
    const s0 = RunStore.open(db)._unsafeUnwrap();
    s0.startRun({ id: "mine" })._unsafeUnwrap();
    s0.close();
    const raw = new Database(db);
    raw.run("INSERT INTO runs (id, name, status, started_at, pid, host) VALUES ('foreign', 'foreign', 'running', 1, 1, 'another-host')");
    raw.close();

    const s = RunStore.open(db)._unsafeUnwrap();
    const orphan = s.getRun("orphan")._unsafeUnwrap();
    expect(orphan.status).toBe("crashed");
    expect(orphan.step).toBe(1);
    expect(orphan.error).toBe(`process ${p.pid} on ${orphan.host} ended without recording an end (killed or crashed) after step 1`);
    expect(orphan.endedAt).not.toBeNull();
    expect(s.getRun("mine")._unsafeUnwrap().status).toBe("running");
    expect(s.getRun("foreign")._unsafeUnwrap().status).toBe("running");
    expect(s.events("orphan").map((e) => e.kind)).toEqual(["started", "crashed"]);
    s.close();
  });

  test("resuming a run drops the metrics recorded after the checkpoint it resumes from", () => {
    const s = RunStore.open(db)._unsafeUnwrap();
    s.startRun({ id: "r" })._unsafeUnwrap();
    for (let i = 1; i <= 7; i++) s.recordMetrics("r", i, { loss: 10 - i })._unsafeUnwrap();
    s.endRun("r", "crashed")._unsafeUnwrap();
    s.startRun({ id: "r", resumedFromStep: 4 })._unsafeUnwrap();
    const r = s.getRun("r")._unsafeUnwrap();
    expect([r.status, r.step, r.endedAt, r.error]).toEqual(["running", 4, null, null]);
    expect(s.metric("r", "loss").map((p) => p.step)).toEqual([1, 2, 3, 4]);
    s.close();
  });

  test("deleteRun removes a run (by id or unique prefix) with its metrics, params, artifacts and events", () => {
    const s = RunStore.open(db)._unsafeUnwrap();
    s.startRun({ id: "20250101-keep", config: { lr: 1 } })._unsafeUnwrap();
    s.startRun({ id: "20250102-gone", config: { lr: 2 } })._unsafeUnwrap();
    for (const id of ["20250101-keep", "20250102-gone"]) {
      s.recordMetrics(id, 1, { loss: 1 })._unsafeUnwrap();
      s.addArtifact(id, { kind: "model", path: `/out/${id}` })._unsafeUnwrap();
      s.endRun(id, "completed")._unsafeUnwrap();
    }
    expect(s.deleteRun("2025")._unsafeUnwrapErr().message).toMatch(/ambiguous/);
    expect(s.deleteRun("20250102")._unsafeUnwrap()).toBe("20250102-gone");
    expect(s.listRuns().map((r) => r.id)).toEqual(["20250101-keep"]);
    expect([s.metric("20250102-gone", "loss"), s.params("20250102-gone"), s.artifacts("20250102-gone"), s.events("20250102-gone")]).toEqual([[], {}, [], []]);
    expect(s.metric("20250101-keep", "loss")).toHaveLength(1);
    expect(s.deleteRun("20250102-gone")._unsafeUnwrapErr().message).toMatch(/no run "20250102-gone"/);
    s.close();
  });

  test("bad input is refused with a message and writes nothing", () => {
    const s = RunStore.open(db)._unsafeUnwrap();
    s.startRun({ id: "r" })._unsafeUnwrap();
    const snapshot = () => JSON.stringify([s.listRuns(), s.metricNames("r"), s.metric("r", "loss"), s.events("r").length, s.artifacts("r")]);
    const before = snapshot();
    expect(s.startRun({ id: " padded" })._unsafeUnwrapErr().message).toMatch(/run id must be a non-empty string/);
    expect(s.recordMetrics("r", -1, { loss: 1 })._unsafeUnwrapErr().message).toMatch(/step must be an integer >= 0, found -1/);
    expect(s.recordMetrics("r", 1, { loss: 1, "": 2 })._unsafeUnwrapErr().message).toMatch(/bad metric name ""/);
    expect(s.recordMetrics("nope", 1, { loss: 1 })._unsafeUnwrapErr().message).toMatch(/no run "nope" \(start it first\)/);
    expect(s.endRun("r", "running" as never)._unsafeUnwrapErr().message).toMatch(/cannot end with status "running"/);
    expect(s.addArtifact("r", { kind: "model", path: "" })._unsafeUnwrapErr().message).toMatch(/needs a kind and a path/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(s.addEvent("r", "note", "x", cyclic)._unsafeUnwrapErr().message).toMatch(/event data is not JSON/);
    expect(snapshot()).toBe(before);
    // A non-finite value (a skipped step) is not a point on the curve: it is kept as an event.
    s.recordMetrics("r", 2, { loss: Number.NaN, lr: 0.1 })._unsafeUnwrap();
    expect(s.metric("r", "loss")).toEqual([]);
    expect(s.metric("r", "lr")).toEqual([{ step: 2, value: 0.1 }]);
    expect(s.events("r").at(-1)!.message).toBe("step 2: loss = NaN");
    s.close();
  });

  test("a file that is not a store, or a newer store, is refused and left untouched", () => {
    const junk = join(dir, "junk.db");
    writeFileSync(junk, "this is not sqlite, just text that is long enough to have a header".repeat(4));
    const bytes = readFileSync(junk);
    expect(RunStore.open(junk)._unsafeUnwrapErr().message).toMatch(/cannot open the run store/);
    expect(Buffer.compare(readFileSync(junk), bytes)).toBe(0);
    const raw = new Database(db);
    raw.run("PRAGMA user_version = 99");
    raw.close();
    expect(RunStore.open(db)._unsafeUnwrapErr().message).toMatch(/schema version 99, newer than this lft's 1/);
  });

  test("storeHooks records a train() run: every step, the checkpoint, completion; a failing run is marked failed", async () => {
    const s = RunStore.open(db)._unsafeUnwrap();
    const run = tinyRun();
    const ok = await train({
      runId: "good",
      params: run.params,
      optimizer: adamw({ lr: 1e-2 }),
      steps: 5,
      batches: tinyBatches(8),
      lossFn: run.lossFn,
      progress: false,
      checkpoint: { dir: join(dir, "ck"), every: 0 },
      handlers: [storeHooks(s, { name: "tiny", gitRevision: "deadbeef" })],
    });
    const losses = ok._unsafeUnwrap().losses;
    expect(s.metric("good", "loss").map((p) => p.value)).toEqual([...losses]);
    expect(s.metric("good", "tokens").map((p) => p.value)).toEqual([14, 14, 14, 14, 14]);
    expect(s.artifacts("good").map((a) => a.path)).toEqual([join(dir, "ck", "checkpoint-5")]);
    expect(s.getRun("good")._unsafeUnwrap()).toMatchObject({ status: "completed", step: 5, totalSteps: 5, name: "tiny", gitRevision: "deadbeef" });

    const bad = await train({
      runId: "bad",
      params: run.params,
      optimizer: adamw({ lr: 1e-2 }),
      steps: 5,
      batches: tinyBatches(8),
      progress: false,
      handlers: [storeHooks(s)],
      lossFn: (b, c) => {
        if (c.step === 3) throw new Error("tokenizer exploded");
        return run.lossFn(b, c);
      },
    });
    expect(bad._unsafeUnwrapErr().message).toBe("step 3 failed: tokenizer exploded");
    expect(s.getRun("bad")._unsafeUnwrap()).toMatchObject({ status: "failed", step: 2, error: "step 3 failed: tokenizer exploded" });
    run.dispose();
    s.close();
  });
});
