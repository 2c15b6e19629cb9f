// Ctrl-C as the runner sees it: the context's AbortSignal fires during training, the run stops after
// that step with a checkpoint and ends as "interrupted" (exit 130), recorded so in the run store;
// `resume = true` then continues from the checkpoint to the end of the same run.
import { afterAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { definePlugin, RunStore } from "../../../core/index.ts";
import { lftPlugin } from "../../../dsl/commands/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { loadRecipeFile } from "../../../dsl/pipeline.ts";
import { runRecipe } from "../../../dsl/run.ts";
import { openSession } from "../../../dsl/session.ts";
import { captureIO, IDENTITY, STORIES, scratch, withProjectStore } from "./helpers.ts";

const { dir, cleanup } = scratch("interrupt");
afterAll(cleanup);

const recipe = (resume: boolean) => `model llama "${STORIES}" { template = default }
dataset alpaca "${IDENTITY}"
method lora { targets = [all] }
train sft for 8 steps { lr = 5e-3, batch = 4, save_every = 100, output = "runs/stop", resume = ${resume}, log_every = 1000 }
chat "Who are you?" { temperature = 0, max_new_tokens = 8 }
`;

/** Runs the recipe in a fresh session whose abort signal fires after training step `abortAt`. */
async function runWithAbort(name: string, text: string, abortAt?: number) {
  writeFileSync(join(dir, name), text);
  const io = captureIO(dir);
  const { session } = await openSession({ mode: "cli", io, core: lftPlugin, projectPlugins: false });
  const controller = new AbortController();
  const watcher = definePlugin({ name: "abort-watcher", setup: (api) => void api.on("onStep", (e) => void (e.step === abortAt && controller.abort())) });
  session.registry.use(watcher)._unsafeUnwrap();
  const loaded = (await loadRecipeFile(name, session.registry, dir))._unsafeUnwrap();
  const code = await withProjectStore(() => runRecipe(loaded.checked.recipe, session.registry, { io, live: session.live, signal: controller.signal }));
  return { code, out: io.out(), err: io.err() };
}

test("an abort during training ends the run as interrupted, with a checkpoint, and resume finishes it", async () => {
  const stopped = await runWithAbort("stop.lft", recipe(false), 3);
  expect(stopped.code).toBe(ExitCode.interrupted);
  expect(stopped.err).toContain("stop.lft: interrupted\n");
  expect(stopped.out).toContain("train sft: interrupted after step 3 of 8; checkpoint runs/stop/checkpoint-3 (set resume = true to continue from it)");
  // The actions after the interrupted one did not run.
  expect(stopped.out).not.toContain("> Who are you?");
  expect(existsSync(join(dir, "runs/stop/checkpoint-3/trainer_state.json"))).toBe(true);
  const store = RunStore.open(join(dir, ".lft", "runs.sqlite"))._unsafeUnwrap();
  const [run] = store.listRuns();
  expect([run!.status, run!.step]).toEqual(["interrupted", 3]);

  const resumed = await runWithAbort("resume.lft", recipe(true));
  expect(resumed.code).toBe(ExitCode.ok);
  expect(resumed.out).toMatch(/train sft: 8 steps \(resumed after step 3\)/);
  expect(resumed.out).toContain("> Who are you?");
  const runs = store.listRuns();
  expect(runs).toHaveLength(1);
  expect([runs[0]!.id, runs[0]!.status, runs[0]!.step]).toEqual([run!.id, "completed", 8]);
  expect(store.metric(run!.id, "loss").map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  store.close();
});
