// A recipe trains stories260K with each memory-saving optimizer through `lft run` (the runner builds the
// optimizer from the registry and hands it the model, which Adam-mini reads for its head size): the
// training loss falls. BAdam switches layers every 3 steps here, so 15 steps visit all five layers.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { lft, STORIES, scratch } from "../runner/helpers.ts";

const { dir, cleanup } = scratch("opt-recipes");
afterAll(cleanup);

const lines = Array.from({ length: 24 }, (_, i) => `Tom has a red ball number ${i % 4}. He gives the red ball to Sue, and Sue says thank you.`);
writeFileSync(join(dir, "corpus.txt"), `${lines.join("\n")}\n`);

const CASES: [string, string][] = [
  ["badam-layer", "optimizer = badam, switch_interval = 3, lr = 1e-2"],
  ["badam-ratio", "optimizer = badam, mode = ratio, update_ratio = 0.3, lr = 1e-2"],
  ["adam-mini", "optimizer = adam_mini, lr = 3e-3"],
  ["muon", "optimizer = muon, lr = 2e-3"],
];

describe("recipes with badam, adam_mini and muon", () => {
  for (const [name, options] of CASES) {
    test(`${name}: the loss falls`, async () => {
      const run = await lft(
        dir,
        `${name}.lft`,
        `model llama "${STORIES}" { dtype = f32 }
dataset text "corpus.txt"
method full
train pt for 15 steps { batch = 4, cutoff = 32, pack = true, scheduler = constant, output = "runs/${name}", log_every = 1000, ${options} }
`,
      );
      expect(run.err).not.toMatch(/\n\s+at /);
      expect(run.code).toBe(ExitCode.ok);
      const trained = /train pt: 15 steps .* loss ([\d.]+) → ([\d.]+)/.exec(run.out);
      expect(trained).not.toBeNull();
      const [first, last] = trained!.slice(1).map(Number);
      expect(last!).toBeLessThan(first! * 0.9);
    }, 60_000);
  }

  test("badam on a model whose parameters form one block is refused before training, naming the cause", async () => {
    const run = await lft(
      dir,
      "one-block.lft",
      `model llama "${STORIES}" { dtype = f32 }
dataset text "corpus.txt"
method freeze { layers = 1 }
train pt for 2 steps { batch = 4, cutoff = 32, optimizer = badam, output = "runs/one" }
`,
    );
    expect(run.code).not.toBe(ExitCode.ok);
    expect(run.err + run.out).toMatch(/mode = layer needs at least 2 blocks/);
  }, 60_000);
});
