// The recipe's two packing options on a real SFT run: `packing` (LLaMA-Factory's packing: samples
// concatenated, attention crossing them; `pack` is the same) and `neat_packing` (samples isolated by
// segment ids). Before issue 13, `pack` meant neat packing for SFT.
import { afterAll, describe, expect, test } from "bun:test";
import { IDENTITY, lft, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("packing");
afterAll(cleanup);

const recipe = (options: string) => `model llama "${STORIES}" { template = default }
dataset alpaca "${IDENTITY}"
method full
train sft for 1 steps { batch = 2, cutoff = 128, log_every = 1000${options} }
`;

/** The "data: ..." line the run prints. */
const dataLine = (out: string) => out.split("\n").find((l) => l.startsWith("data: ")) ?? "";

describe("packing and neat_packing in a recipe", () => {
  test("packing (or pack): rows of cutoff + 1 tokens, samples attend across", async () => {
    for (const option of ["packing", "pack"]) {
      const run = await lft(dir, `${option}.lft`, recipe(`, ${option} = true`));
      expect(run.code).toBe(0);
      expect(dataLine(run.out)).toContain("(longest 129), packed (samples attend across)");
    }
  }, 60_000);

  test("neat_packing: rows of cutoff + 1 tokens, samples isolated", async () => {
    const run = await lft(dir, "neat.lft", recipe(", neat_packing = true"));
    expect(run.code).toBe(0);
    expect(dataLine(run.out)).toContain("(longest 129), neat-packed (samples isolated)");
  }, 60_000);

  test("neat_packing on a stage that cannot isolate packed samples is an error saying so", async () => {
    const run = await lft(dir, "pt.lft", recipe(", neat_packing = true").replace("train sft", "train pt"));
    expect(run.code).not.toBe(0);
    expect(run.err).toContain("neat_packing: this stage's samples cannot be packed in isolation; use packing = true, or remove neat_packing");
  }, 60_000);

  test("neither: one sample per row", async () => {
    const run = await lft(dir, "plain.lft", recipe(""));
    expect(run.code).toBe(0);
    expect(dataLine(run.out)).not.toContain("packed");
    const rows = ((await Bun.file(IDENTITY).json()) as unknown[]).length;
    expect(dataLine(run.out)).toContain(`data: ${rows} sft samples`);
  }, 60_000);
});
