// Attack: checkpoints damaged after they were written. Each checkpoint carries a manifest (size and
// sha256 of every file, the step) written last; resume verifies it and falls back past a damaged newest
// checkpoint to the newest intact one with a warning naming what was wrong, and refuses when none is
// intact. A trainer_state.json edited to another step is caught. Stale temp folders are removed at
// start with a note; a save that fails removes its own temp folder at once.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listCheckpoints, MANIFEST_FILE, saveCheckpoint, tensor, train, verifyCheckpoint } from "../../lft.ts";
import { adamw } from "../../plugins/optimizers/index.ts";
import { tinyBatches, tinyRun } from "../core/train/tiny-run.ts";

const work = mkdtempSync(join(tmpdir(), "lft-attack-ck-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Trains the tiny decoder to `steps` in `dir` (checkpoint every 2, all kept); returns the result and the warnings. */
async function runTo(dir: string, steps: number) {
  const run = tinyRun();
  const warnings: string[] = [];
  const r = await train({
    params: run.params,
    optimizer: adamw({ lr: 1e-2 }),
    steps,
    batches: tinyBatches(8),
    lossFn: run.lossFn,
    progress: false,
    checkpoint: { dir, every: 2, keep: 0 },
    warn: (m) => warnings.push(m),
  });
  run.dispose();
  return { r, warnings };
}

/** A run folder with checkpoints 2 and 4, plus the uninterrupted 6-step losses to compare against. */
let reference: number[] = [];
async function fourSteps(): Promise<string> {
  if (reference.length === 0) {
    const full = await runTo(join(work, "reference"), 6);
    reference = [...full.r._unsafeUnwrap().losses];
  }
  const dir = mkdtempSync(join(work, "run-"));
  (await runTo(dir, 4)).r._unsafeUnwrap();
  expect(listCheckpoints(dir).map((c) => c.step)).toEqual([2, 4]);
  return dir;
}

/** Resumes to step 6; expects a fall-back to checkpoint-2 with a warning matching `why`, and bit-exact losses after it. */
async function expectFallback(dir: string, why: RegExp): Promise<void> {
  const { r, warnings } = await runTo(dir, 6);
  const out = r._unsafeUnwrap();
  expect(out.status).toBe("completed");
  expect(out.resumedFromStep).toBe(2);
  expect(warnings.length).toBe(1);
  expect(warnings[0]).toMatch(/checkpoint-4 is damaged \(/);
  expect(warnings[0]).toMatch(why);
  expect(warnings[0]).toMatch(/resuming from .*checkpoint-2 instead/);
  // Steps 3-6 recomputed from checkpoint 2 equal the uninterrupted run's, bit for bit.
  expect(out.losses.slice(2)).toEqual(reference.slice(2));
}

/** Rewrites a trainer_state.json's step, as a user editing it by hand would. */
function editStep(file: string, step: number): void {
  const state = JSON.parse(readFileSync(file, "utf8"));
  state.step = step;
  writeFileSync(file, `${JSON.stringify(state, null, 1)}\n`);
}

describe("the manifest", () => {
  test("is written in every checkpoint: format, step, and the size and sha256 of every other file", async () => {
    const dir = await fourSteps();
    for (const { step, path } of listCheckpoints(dir)) {
      const m = JSON.parse(readFileSync(join(path, MANIFEST_FILE), "utf8"));
      expect(m.format).toBe(1);
      expect(m.step).toBe(step);
      const others = readdirSync(path)
        .filter((f) => f !== MANIFEST_FILE)
        .sort();
      expect(Object.keys(m.files).sort()).toEqual(others);
      expect(others).toContain("trainer_state.json");
      expect(others).toContain("model.safetensors");
      for (const f of others) {
        const bytes = readFileSync(join(path, f));
        expect(m.files[f]).toEqual({ size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
      }
      expect(verifyCheckpoint(path, step)).toEqual({ ok: true, manifest: true });
    }
  });
});

describe("a damaged newest checkpoint: fall back to the newest intact one", () => {
  test("one flipped byte in model.safetensors (same size): the hash catches it", async () => {
    const dir = await fourSteps();
    const file = join(dir, "checkpoint-4", "model.safetensors");
    const bytes = readFileSync(file);
    bytes[bytes.length - 3]! ^= 0x40;
    writeFileSync(file, bytes);
    await expectFallback(dir, /model\.safetensors does not match its sha256/);
  });

  test("a truncated optimizer.safetensors", async () => {
    const dir = await fourSteps();
    const file = join(dir, "checkpoint-4", "optimizer.safetensors");
    truncateSync(file, Math.floor(statSync(file).size / 2));
    await expectFallback(dir, /optimizer\.safetensors is \d+ bytes but was written as \d+/);
  });

  test("a missing file (rng.json)", async () => {
    const dir = await fourSteps();
    rmSync(join(dir, "checkpoint-4", "rng.json"));
    await expectFallback(dir, /rng\.json is missing/);
  });

  test("trainer_state.json edited to step 3 inside checkpoint-4: not resumed at step 3 with step-4 weights", async () => {
    const dir = await fourSteps();
    editStep(join(dir, "checkpoint-4", "trainer_state.json"), 3);
    await expectFallback(dir, /trainer_state\.json says step 3 but the folder is checkpoint-4/);
  });

  test("the same edit in a checkpoint without a manifest (older lft) is caught too", async () => {
    const dir = await fourSteps();
    for (const s of [2, 4]) rmSync(join(dir, `checkpoint-${s}`, MANIFEST_FILE));
    editStep(join(dir, "checkpoint-4", "trainer_state.json"), 3);
    const { r, warnings } = await runTo(dir, 6);
    expect(r._unsafeUnwrap().resumedFromStep).toBe(2);
    expect(warnings[0]).toMatch(/says step 3 but the folder is checkpoint-4/);
    expect(warnings[1]).toMatch(/checkpoint-2 has no manifest \(written by an older lft\)/);
  });

  test("a garbage manifest counts as damage", async () => {
    const dir = await fourSteps();
    writeFileSync(join(dir, "checkpoint-4", MANIFEST_FILE), "{ not json");
    await expectFallback(dir, /checkpoint_manifest\.json is unreadable/);
  });

  test("a manifest with a malformed entry or a path outside the folder counts as damage (never a crash)", async () => {
    const dir = await fourSteps();
    const file = join(dir, "checkpoint-4", MANIFEST_FILE);
    const m = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...m, files: { ...m.files, "rng.json": null } }));
    expect(verifyCheckpoint(join(dir, "checkpoint-4"), 4)).toEqual({
      ok: false,
      problem: 'checkpoint_manifest.json: the entry for "rng.json" is not { size, sha256 }',
    });
    writeFileSync(file, JSON.stringify({ ...m, files: { ...m.files, "../checkpoint-2/rng.json": m.files["rng.json"] } }));
    expect(verifyCheckpoint(join(dir, "checkpoint-4"), 4)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/lists "\.\.\/checkpoint-2\/rng\.json", which is not a file name/),
    });
    writeFileSync(file, JSON.stringify({ ...m, step: 2 }));
    await expectFallback(dir, /checkpoint_manifest\.json is for step 2 but the folder is checkpoint-4/);
  });

  test("every checkpoint damaged: refused with each problem named (nothing is silently restarted)", async () => {
    const dir = await fourSteps();
    for (const s of [2, 4]) rmSync(join(dir, `checkpoint-${s}`, "model.safetensors"));
    const { r } = await runTo(dir, 6);
    const e = r._unsafeUnwrapErr();
    expect(e.reason).toBe("checkpoint");
    expect(e.message).toMatch(
      /cannot resume from .*checkpoint-4: model\.safetensors is missing; cannot resume from .*checkpoint-2: model\.safetensors is missing; no intact checkpoint is left/,
    );
    expect(e.message).toMatch(/set resume = false/);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([2, 4]);
  });
});

describe("load_best_model_at_end", () => {
  test("a best checkpoint damaged during the run is not loaded: the run fails naming it", async () => {
    const dir = mkdtempSync(join(work, "best-"));
    const run = tinyRun();
    const r = await train({
      params: run.params,
      optimizer: adamw({ lr: 1e-2 }),
      steps: 6,
      batches: tinyBatches(8),
      lossFn: run.lossFn,
      progress: false,
      checkpoint: { dir, every: 2, keep: 0 },
      // Step 2 is the best; at step 6 something damages its weights on disk.
      eval: {
        every: 2,
        fn: ({ step }) => {
          if (step === 6) {
            const file = join(dir, "checkpoint-2", "model.safetensors");
            const bytes = readFileSync(file);
            bytes[bytes.length - 1]! ^= 0x01;
            writeFileSync(file, bytes);
          }
          return { loss: step === 2 ? 0.5 : 1 };
        },
      },
      best: { loadAtEnd: true },
      warn: () => {},
    });
    run.dispose();
    const e = r._unsafeUnwrapErr();
    expect(e.reason).toBe("checkpoint");
    expect(e.message).toMatch(/the best checkpoint .*checkpoint-2 is damaged \(model\.safetensors does not match its sha256/);
  });
});

describe("older checkpoints and temp folders", () => {
  test("a checkpoint without a manifest (written by an older lft) still resumes, with a note", async () => {
    const dir = await fourSteps();
    rmSync(join(dir, "checkpoint-4", MANIFEST_FILE));
    const { r, warnings } = await runTo(dir, 6);
    const out = r._unsafeUnwrap();
    expect(out.resumedFromStep).toBe(4);
    expect(out.losses.slice(4)).toEqual(reference.slice(4));
    expect(warnings).toEqual([expect.stringMatching(/checkpoint-4 has no manifest \(written by an older lft\)/)]);
    // The checkpoint saved after the resume has one again.
    expect(existsSync(join(dir, "checkpoint-6", MANIFEST_FILE))).toBe(true);
  });

  test("a stale temp folder from a killed save is removed at start, with a note (even when the run does not resume)", async () => {
    const dir = await fourSteps();
    // pid 2^22 + 1 is above Linux's pid_max default: never a live process.
    const stale = join(dir, ".tmp-checkpoint-6-4194305");
    mkdirSync(stale);
    writeFileSync(join(stale, "model.safetensors"), "partial");
    const run = tinyRun();
    const warnings: string[] = [];
    // steps = 4 with resume: nothing left to train, so no save runs the old clean-up on the way.
    const r = await train({
      params: run.params,
      optimizer: adamw({ lr: 1e-2 }),
      steps: 4,
      batches: tinyBatches(8),
      lossFn: run.lossFn,
      progress: false,
      checkpoint: { dir, every: 2, keep: 0 },
      warn: (m) => warnings.push(m),
    });
    run.dispose();
    expect(r._unsafeUnwrap().resumedFromStep).toBe(4);
    expect(existsSync(stale)).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/removed \.tmp-checkpoint-6-4194305 .*left by a save that was killed/)]);
  });

  test("a save that fails part-way removes its own temp folder at once", () => {
    const dir = mkdtempSync(join(work, "failing-save-"));
    const t = tensor(new Float32Array([1, 2, 3]), [3]);
    // The second file cannot be created (its folder does not exist): the save fails after writing the first.
    const r = saveCheckpoint(dir, 7, { tensors: { "model.safetensors": [["w", t]], "missing/x.safetensors": [["w", t]] }, json: {} });
    t.dispose();
    expect(r.isErr()).toBe(true);
    expect(r._unsafeUnwrapErr().message).toMatch(/checkpoint at step 7/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
