// Attack: updates that leave NaN/Inf weights, and models whose loss is NaN from the start. Neither may
// report "completed": the run fails with the step and the tensor named, before a checkpoint holds the
// bad weights. The counts come from the AdamW kernel itself (fused) or the backend's countNonFinite.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuBackend, type OptimizerFactory, ops, type Tensor, tensor, train } from "../../lft.ts";
import { adamw, sgd } from "../../plugins/optimizers/index.ts";
import { GradRecorder } from "../core/train/recorder.ts";
import { tinyBatches, tinyRun } from "../core/train/tiny-run.ts";

const repo = join(import.meta.dir, "..", "..");
const work = mkdtempSync(join(tmpdir(), "lft-attack-nonfinite-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const checkpoints = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith("checkpoint-")) : []);

describe("backend counts of non-finite values", () => {
  test("countNonFinite finds NaN, +Inf and -Inf and nothing else (f32; large finite values are fine)", () => {
    const x = tensor(new Float32Array([1, Number.NaN, 3.4e38, Number.POSITIVE_INFINITY, -3.4e38, Number.NEGATIVE_INFINITY, 0, -0]), [8]);
    expect(cpuBackend.countNonFinite(x)).toBe(3);
    expect(cpuBackend.countNonFinite(tensor(new Float32Array(100_000).fill(0.5), [100_000]))).toBe(0);
    const big = new Float32Array(200_000).fill(1);
    for (const i of [0, 65_537, 199_999]) big[i] = Number.NaN;
    expect(cpuBackend.countNonFinite(tensor(big, [200_000]))).toBe(3);
  });

  test("the AdamW kernel returns how many values it wrote are non-finite (no second pass)", () => {
    const p = tensor(new Float32Array([1, 2, 3, 4]), [4]);
    const g = tensor(new Float32Array([0.1, 0.1, 0.1, 0.1]), [4]);
    const m = tensor(new Float32Array(4), [4]);
    const v = tensor(new Float32Array(4), [4]);
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };
    expect(cpuBackend.adamwStep(p, g, m, v, h)).toBe(0);
    // lr beyond f32's range: every update is Inf or NaN.
    expect(cpuBackend.adamwStep(p, g, m, v, { ...h, lr: 1e308, step: 2 })).toBe(4);
  });
});

/** Runs the tiny decoder with a checkpoint each step; returns the error (the test expects one). */
async function failingRun(optimizer: OptimizerFactory, params?: (p: Record<string, Tensor>) => void) {
  const run = tinyRun();
  params?.(run.params);
  const dir = mkdtempSync(join(work, "run-"));
  const r = await train({
    params: run.params,
    optimizer,
    steps: 3,
    batches: tinyBatches(16),
    lossFn: run.lossFn,
    checkpoint: { dir, every: 1 },
    progress: false,
  });
  run.dispose();
  expect(r.isErr()).toBe(true);
  return { error: r._unsafeUnwrapErr(), dir };
}

describe("non-finite weights stop the run", () => {
  test("AdamW with lr = 1e308: failed at step 1 naming the tensor, no checkpoint written", async () => {
    const { error, dir } = await failingRun(adamw({ lr: 1e308 }));
    expect(error.reason).toBe("non-finite");
    expect(error.message).toMatch(/^step 1: the optimizer update left \d+ NaN\/Inf value\(s\) in "embed"/);
    expect(error.message).toMatch(/Lower the learning rate/);
    expect(error.step).toBe(0);
    expect(checkpoints(dir)).toEqual([]);
  });

  test("SGD (checked by the backend's countNonFinite): failed at step 1, no checkpoint", async () => {
    const { error, dir } = await failingRun(sgd({ lr: 1e308 }));
    expect(error.reason).toBe("non-finite");
    expect(error.message).toMatch(/^step 1: .* in "embed"/);
    expect(checkpoints(dir)).toEqual([]);
  });

  test("an optimizer without nonFinite(): train() counts over the parameters itself", async () => {
    const recorder: OptimizerFactory = (groups) => {
      const o = new GradRecorder(groups, 1e308);
      return { isErr: () => false, isOk: () => true, value: o } as never;
    };
    const { error } = await failingRun(recorder);
    expect(error.reason).toBe("non-finite");
    expect(error.message).toMatch(/^step 1: the optimizer update left/);
  });

  test("a model whose weights are NaN: the NaN loss never 'completes' (2 steps, under the guard's 5)", async () => {
    const run = tinyRun();
    const w = run.params.embed!;
    w.backend.upload(w, new Float32Array(w.numel).fill(Number.NaN));
    const dir = mkdtempSync(join(work, "nan-"));
    const r = await train({
      params: run.params,
      optimizer: adamw({ lr: 1e-3 }),
      steps: 2,
      batches: tinyBatches(16),
      lossFn: run.lossFn,
      checkpoint: { dir, every: 0 },
      progress: false,
    });
    run.dispose();
    expect(r.isErr()).toBe(true);
    const e = r._unsafeUnwrapErr();
    expect(e.reason).toBe("non-finite");
    expect(e.message).toMatch(/the run ended with 2 step\(s\) whose loss or gradient was NaN\/Inf \(steps 1-2; last loss NaN/);
    expect(checkpoints(dir)).toEqual([]);
  });

  test("one NaN step that the run recovers from still completes (the guard's purpose is kept)", async () => {
    const run = tinyRun();
    const lossFn: typeof run.lossFn = (b, ctx) => {
      const out = run.lossFn(b, ctx);
      return ctx.step === 2 ? { ...out, loss: ops.mul(out.loss, tensor([Number.NaN], [])) } : out;
    };
    const r = await train({ params: run.params, optimizer: adamw({ lr: 1e-3 }), steps: 3, batches: tinyBatches(16), lossFn, progress: false });
    run.dispose();
    expect(r._unsafeUnwrap().status).toBe("completed");
    expect(r._unsafeUnwrap().skippedSteps).toBe(1);
  });
});

describe("from a recipe (process level: exit code and message)", () => {
  test("train sft for 2 steps { lr = 1e308 }: exit 6, the step and a LoRA tensor named, no adapter, no checkpoint", async () => {
    const out = join(work, "lft-run");
    writeFileSync(
      join(work, "nan.lft"),
      `model llama "${repo}/examples/models/stories260K" { template = default }
dataset alpaca "${repo}/examples/data/identity.json"
method lora { rank = 4, targets = [all] }
train sft for 2 steps { lr = 1e308, batch = 2, output = "${out}" }
`,
    );
    const proc = Bun.spawn([process.execPath, join(repo, "dsl", "cli.ts"), "nan.lft"], {
      cwd: work,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, CI: "true", LFT_HOME: join(work, "home") },
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    const text = stdout + stderr;
    expect(code).toBe(6);
    expect(text).toMatch(/step 1: the optimizer update left \d+ NaN\/Inf value\(s\) in "[^"]*lora_[AB][^"]*"/);
    expect(text).not.toMatch(/completed/);
    expect(text).not.toMatch(/\n\s+at .*\.ts:\d+/);
    expect(checkpoints(out)).toEqual([]);
    expect(existsSync(join(out, "adapter_model.safetensors"))).toBe(false);
  }, 60_000);
});
