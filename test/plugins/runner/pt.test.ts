// Continued pre-training with `method full` on a small text file: every weight trains, the held-out
// lines' loss falls, eval without a source scores that held-out part (and records it on the run),
// and the output folder is a complete model (weights, config, tokenizer) that loads on its own.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRegistry, loadModel, RunStore } from "../../../core/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { builtinPlugins } from "../../../plugins/index.ts";
import { evalLosses, type LftRun, lft, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("pt");
afterAll(cleanup);

// Forty short lines in TinyStories' register, with a pattern the model can pick up quickly.
const colours = ["red", "blue", "green", "yellow", "pink"];
const things = ["ball", "kite", "boat", "hat", "cup", "box", "car", "book"];
const lines = Array.from(
  { length: 40 },
  (_, i) =>
    `Tom has a ${colours[i % colours.length]} ${things[i % things.length]}. He gives the ${colours[i % colours.length]} ${things[i % things.length]} to Sue, and Sue says thank you.`,
);

let run: LftRun;
beforeAll(async () => {
  writeFileSync(join(dir, "corpus.txt"), `${lines.join("\n")}\n`);
  run = await lft(
    dir,
    "pt.lft",
    `model llama "${STORIES}" { dtype = f32 }
dataset text "corpus.txt"
method full
train pt for 25 steps { lr = 2e-3, batch = 4, cutoff = 64, pack = true, holdout = 0.2, warmup = 2 steps, output = "runs/pt", log_every = 1000 }
eval { batch = 4 }
`,
  );
}, 60_000);

test("pt with method full: the held-out loss falls, and eval without a source scores the held-out part", () => {
  expect(run.err).not.toMatch(/\n\s+at /);
  expect(run.code).toBe(ExitCode.ok);
  expect(run.out).toContain("method full: 260,032 of 260,032 parameters trainable (100.00%)");
  expect(run.out).toMatch(/data: \d+ pt samples from corpus\.txt \(text\), template empty, .*, \d+ held out/);
  const trained = /train pt: 25 steps .* loss ([\d.]+) → ([\d.]+) .* held-out loss ([\d.]+)/.exec(run.out);
  expect(trained).not.toBeNull();
  const [first, , heldOut] = trained!.slice(1).map(Number);
  // The base model has never seen these sentences; 25 full steps should at least halve the loss.
  expect(heldOut!).toBeLessThan(first! / 2);
  const [evaluated] = evalLosses(run.out);
  expect(run.out).toContain("eval held-out data: loss");
  expect(evaluated!).toBeCloseTo(heldOut!, 4);
});

test("the held-out evaluation is recorded on the training run", () => {
  const store = RunStore.open(join(dir, ".lft", "runs.sqlite"))._unsafeUnwrap();
  try {
    const [r] = store.listRuns();
    expect(r!.status).toBe("completed");
    expect(store.metricNames(r!.id)).toContain("eval/holdout/loss");
    expect(store.metric(r!.id, "eval/holdout/loss").at(-1)!.value).toBeCloseTo(evalLosses(run.out)[0]!, 4);
  } finally {
    store.close();
  }
});

test("the output folder is a whole model that loads and differs from the base", () => {
  const registry = createRegistry();
  for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
  const trained = loadModel(join(dir, "runs/pt"), registry)._unsafeUnwrap();
  const base = loadModel(STORIES, registry)._unsafeUnwrap();
  const weights = (m: typeof base.model) => new Map(m.namedParameters().map(([n, t]) => [n, t.toArray() as Float32Array]));
  const a = weights(trained.model);
  const b = weights(base.model);
  expect([...a.keys()]).toEqual([...b.keys()]);
  // Every tensor moved: full fine-tuning trains norms and embeddings too.
  for (const [name, values] of a) expect(values.some((v, i) => v !== b.get(name)![i])).toBe(true);
  trained.model.dispose();
  base.model.dispose();
});
