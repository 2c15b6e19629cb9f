// save_total_limit, load_best_model_at_end and early_stopping_steps through the real CLI entry. The
// held-out loss falls during this short pt run, so with greater_is_better = true the first evaluation
// stays the best: early stopping then triggers at a known step, deterministically.
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { listCheckpoints, readCheckpointTensors } from "../../../core/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { lft, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("retention");
afterAll(cleanup);

const lines = Array.from({ length: 40 }, (_, i) => `Tom has a red ball number ${i % 5}. He gives the ball to Sue, and Sue says thank you.`);

test("early stopping ends the run, the best checkpoint is kept and is the result", async () => {
  writeFileSync(join(dir, "corpus.txt"), `${lines.join("\n")}\n`);
  const run = await lft(
    dir,
    "pt.lft",
    `model llama "${STORIES}" { dtype = f32 }
dataset text "corpus.txt"
method full
train pt for 25 steps { lr = 2e-3, batch = 4, cutoff = 64, pack = true, holdout = 0.2, output = "runs/pt", log_every = 1000, eval_every = 2 steps, save_every = 2 steps, save_total_limit = 1, load_best_model_at_end = true, greater_is_better = true, early_stopping_steps = 2 }
`,
  );
  expect(run.err).not.toMatch(/\n\s+at /);
  expect(run.code).toBe(ExitCode.ok);
  expect(run.out).toContain("train pt: stopped at step 6 of 25: early stopping: eval_loss did not improve for 2 evaluations; best");
  expect(run.out).toMatch(/loaded the best checkpoint \(step 2, eval_loss [\d.]+\) for the result/);
  const out = join(dir, "runs/pt");
  // save_total_limit = 1 keeps the newest checkpoint and the best one.
  expect(listCheckpoints(out).map((c) => c.step)).toEqual([2, 6]);
  const best = readCheckpointTensors(join(out, "checkpoint-2"), "model.safetensors")._unsafeUnwrap();
  const last = readCheckpointTensors(join(out, "checkpoint-6"), "model.safetensors")._unsafeUnwrap();
  const result = readCheckpointTensors(out, "model.safetensors")._unsafeUnwrap();
  const name = [...best.keys()].find((k) => result.has(k))!;
  expect(name).toBeDefined();
  expect(result.get(name)!.data).toEqual(best.get(name)!.data);
  expect(result.get(name)!.data).not.toEqual(last.get(name)!.data);
}, 120_000);

test("load_best_model_at_end without held-out data is refused with what to do", async () => {
  const run = await lft(
    dir,
    "nohold.lft",
    `model llama "${STORIES}" { dtype = f32 }
dataset text "corpus.txt"
method full
train pt for 4 steps { batch = 4, cutoff = 64, pack = true, output = "runs/nohold", load_best_model_at_end = true }
`,
  );
  expect(run.code).not.toBe(ExitCode.ok);
  expect(run.err + run.out).toContain("hold out data to evaluate on (e.g. holdout = 0.1)");
}, 60_000);
