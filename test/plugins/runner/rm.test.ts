// `train rm` end to end on stories260K and LLaMA-Factory's dpo_en_demo: the reward model (LoRA adapter
// + value head) ranks the chosen reply above the rejected one on >= 90% of its training pairs; the
// output folder holds the adapter and value_head.safetensors (trl's keys), which load back into a
// scorer that gives the in-memory model's rewards; an interrupted run resumed gives the same bytes as
// an uninterrupted one; an sft-format dataset is refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Batch, definePlugin, noGrad, openSafetensors, tidy } from "../../../core/index.ts";
import { lftPlugin } from "../../../dsl/commands/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { loadRecipeFile } from "../../../dsl/pipeline.ts";
import { runRecipe } from "../../../dsl/run.ts";
import { openSession } from "../../../dsl/session.ts";
import { scoreReplies, scoreWithRewardModel } from "../../../plugins/runner/index.ts";
import { modelState } from "../../../plugins/runner/state.ts";
import { VALUE_HEAD_BIAS, VALUE_HEAD_FILE, VALUE_HEAD_WEIGHT } from "../../../plugins/stages/index.ts";
import { captureIO, REPO, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("rm");
afterAll(cleanup);
const FIXTURES = join(REPO, "test/fixtures/llamafactory-data");

const recipe = (output: string, steps: number, extra = "") => `model llama "${STORIES}" { dtype = f32 }
dataset "dpo_en_demo" { dir = "${FIXTURES}", max_samples = 32 }
method lora { rank = 8 }
train rm for ${steps} steps { lr = 5e-3, batch = 8, cutoff = 64, output = "${output}", log_every = 1000${extra} }
`;

async function session(name: string, text: string, abortAt?: number) {
  writeFileSync(join(dir, name), text);
  const io = captureIO(dir);
  const { session } = await openSession({ mode: "cli", io, core: lftPlugin, projectPlugins: false });
  const controller = new AbortController();
  if (abortAt !== undefined)
    session.registry
      .use(definePlugin({ name: "abort-watcher", setup: (api) => void api.on("onStep", (e) => void (e.step === abortAt && controller.abort())) }))
      ._unsafeUnwrap();
  const loaded = await loadRecipeFile(name, session.registry, dir);
  if (loaded.isErr()) return { code: -1, out: io.out(), err: io.err(), session, loaded };
  const code = await runRecipe(loaded.value.checked.recipe, session.registry, { io, live: session.live, signal: controller.signal });
  return { code, out: io.out(), err: io.err(), session, loaded };
}

let trained: Awaited<ReturnType<typeof session>>;
beforeAll(async () => {
  trained = await session("rm.lft", recipe("runs/rm", 30));
}, 60_000);

test("rm on dpo_en_demo: training accuracy >= 0.9 and the adapter + value head written", () => {
  expect(trained.err).not.toMatch(/\n\s+at /);
  expect(trained.code).toBe(ExitCode.ok);
  expect(trained.out).toContain("data: 32 pairwise samples from dpo_en_demo");
  expect(trained.out).toContain("train rm: lora adapter + value_head.safetensors written to runs/rm");
  const state = modelState(trained.session.live)!;
  const last = state.lastRun!;
  const [data] = [...state.data.values()];
  const batch = last.collate(data!.train as unknown[]) as Batch;
  state.method!.applied.training = false;
  const out = noGrad(() => tidy(() => last.stage.loss(state.model, batch, {}, { step: 0, micro: 0 }).metrics!));
  expect(out.accuracy).toBeGreaterThanOrEqual(0.9);
  expect(out["rewards/margins"]).toBeGreaterThan(0);
});

test("value_head.safetensors holds trl's keys and the last checkpoint's head", () => {
  const head = openSafetensors(join(dir, "runs/rm", VALUE_HEAD_FILE))._unsafeUnwrap();
  const ck = openSafetensors(join(dir, "runs/rm/checkpoint-30/model.safetensors"))._unsafeUnwrap();
  try {
    expect([...head.names()].sort()).toEqual([VALUE_HEAD_BIAS, VALUE_HEAD_WEIGHT]);
    expect(head.info(VALUE_HEAD_WEIGHT)._unsafeUnwrap().shape).toEqual([1, 64]);
    for (const n of [VALUE_HEAD_WEIGHT, VALUE_HEAD_BIAS]) expect(head.bytes(n)._unsafeUnwrap()).toEqual(ck.bytes(n)._unsafeUnwrap());
  } finally {
    head.close();
    ck.close();
  }
});

test("the saved reward model loads back (base + adapter + head) and scores as the trained one in memory", () => {
  const replies = [
    { prompt: "What is the capital of France?", response: "Paris is the capital of France." },
    { prompt: "Say something kind.", response: "You are doing great." },
  ];
  const state = modelState(trained.session.live)!;
  const recipeNow = trained.loaded.isOk() ? trained.loaded.value.checked.recipe : undefined;
  const inMemory = scoreReplies(recipeNow!, state, trained.session.registry, join(dir, "runs/rm"), replies)._unsafeUnwrap();
  const io = captureIO(dir);
  const fresh = scoreWithRewardModel("runs/rm", STORIES, replies, trained.session.registry, io)._unsafeUnwrap();
  expect(fresh.length).toBe(2);
  // Same weights, same kernels: equal up to f32 summation order (the adapter is applied unmerged in both).
  for (const [i, r] of fresh.entries()) expect(r).toBeCloseTo(inMemory[i]!, 5);
});

test("lft score prints the reward; a head from a different base is refused naming the file", async () => {
  const { main } = await import("../../../dsl/cli.ts");
  const io = captureIO(dir);
  const code = await main(["score", "runs/rm", "--model", STORIES, "--prompt", "hi", "--response", "hello"], io);
  expect(code).toBe(ExitCode.ok);
  expect(Number.isFinite(Number(io.out().trim()))).toBe(true);
  // A value head for hidden size 32 beside a copy of the adapter.
  const { cpSync } = await import("node:fs");
  cpSync(join(dir, "runs/rm"), join(dir, "runs/other"), { recursive: true });
  const { writeSafetensors, tensor } = await import("../../../core/index.ts");
  writeSafetensors(join(dir, "runs/other", VALUE_HEAD_FILE), [
    { name: VALUE_HEAD_WEIGHT, data: tensor(new Float32Array(32), [1, 32]) },
    { name: VALUE_HEAD_BIAS, data: tensor(new Float32Array(1), [1]) },
  ])._unsafeUnwrap();
  const bad = captureIO(dir);
  expect(await main(["score", "runs/other", "--model", STORIES, "--prompt", "hi", "--response", "hello"], bad)).toBe(ExitCode.runFailed);
  expect(bad.err()).toContain(`${join(dir, "runs/other", VALUE_HEAD_FILE)}: "${VALUE_HEAD_WEIGHT}" is [1, 32] but this model's hidden size needs [1, 64]`);
}, 30_000);

test("an interrupted rm run resumed gives the uninterrupted run's adapter and value head byte for byte", async () => {
  const steps = 6;
  const straight = await session("straight.lft", recipe("runs/straight", steps, ", save_every = 100"));
  expect(straight.code).toBe(ExitCode.ok);
  const stopped = await session("stopped.lft", recipe("runs/resumed", steps, ", save_every = 100"), 3);
  expect(stopped.code).toBe(ExitCode.interrupted);
  const resumed = await session("resumed.lft", recipe("runs/resumed", steps, ", save_every = 100, resume = true"));
  expect(resumed.code).toBe(ExitCode.ok);
  for (const f of [VALUE_HEAD_FILE, "adapter_model.safetensors"])
    expect(readFileSync(join(dir, "runs/resumed", f)).equals(readFileSync(join(dir, "runs/straight", f)))).toBe(true);
}, 60_000);

test("rm on an sft-format dataset is refused before training", async () => {
  const r = await session(
    "bad.lft",
    `model llama "${STORIES}"
dataset "alpaca_en_demo" { dir = "${FIXTURES}", max_samples = 8 }
method lora
train rm for 2 steps { output = "runs/bad" }
`,
  );
  expect(r.loaded.isOk()).toBe(true);
  expect(r.code).toBe(ExitCode.runFailed);
  expect(r.err).toContain('format alpaca) gives sft/text examples; this stage needs pairwise (set "ranking": true) examples');
  expect(existsSync(join(dir, "runs/bad"))).toBe(false);
});

test("method full: the output is a whole model + value head that lft score loads without --model; a reward adapter needs one", async () => {
  const full = await session("full.lft", recipe("runs/full", 4).replace("method lora { rank = 8 }", "method full"));
  expect(full.code).toBe(ExitCode.ok);
  expect(full.out).toContain("train rm: model + value_head.safetensors written to runs/full");
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", VALUE_HEAD_FILE]) expect(existsSync(join(dir, "runs/full", f))).toBe(true);
  const { main } = await import("../../../dsl/cli.ts");
  const io = captureIO(dir);
  expect(await main(["score", "runs/full", "--prompt", "hi", "--response", "hello"], io)).toBe(ExitCode.ok);
  expect(Number.isFinite(Number(io.out().trim()))).toBe(true);
  const noBase = captureIO(dir);
  expect(await main(["score", "runs/rm", "--prompt", "hi", "--response", "hello"], noBase)).toBe(ExitCode.runFailed);
  expect(noBase.err()).toBe("lft score: runs/rm holds a reward adapter: name its base model with --model <dir>\n");
}, 60_000);
