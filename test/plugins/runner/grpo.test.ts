// `train grpo` through the CLI: examples/grpo.lft runs as written (its model and data paths made
// absolute, its output in a scratch folder) and writes a LoRA adapter; recipes with no reward source,
// an unknown reward function or a reward option missing fail `lft check` at the line that is wrong.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { type LftRun, lft, REPO, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("grpo");
afterAll(cleanup);

const example = readFileSync(join(REPO, "examples/grpo.lft"), "utf8")
  .replace('"models/', `"${REPO}/examples/models/`)
  .replace('"data/', `"${REPO}/examples/data/`);

let run: LftRun;
beforeAll(async () => {
  run = await lft(dir, "grpo.lft", example);
}, 90_000);

test("examples/grpo.lft runs as written and writes the adapter", () => {
  expect(run.err).not.toMatch(/\n\s+at /);
  expect(run.code).toBe(ExitCode.ok);
  expect(run.out).toContain("data: 4 prompt samples");
  expect(run.out).toContain("train grpo: 30 steps");
  expect(existsSync(join(dir, "runs/grpo-story-words/adapter_model.safetensors"))).toBe(true);
});

const base = `model llama "${REPO}/examples/models/stories260K" { template = empty }
dataset alpaca "${REPO}/examples/data/story_words.json" { prompt = "question", response = "answer" }
method lora
`;

test("a grpo recipe without a reward source fails lft check at the train block", async () => {
  const r = await lft(dir, "no-reward.lft", `${base}train grpo for 5 steps {\n  group = 4\n}\n`);
  expect(r.code).toBe(ExitCode.recipeError);
  expect(r.err).toContain('no-reward.lft:4:7: train "grpo": option "reward" is required');
});

test("an unknown reward function fails lft check at its name, with the known ones", async () => {
  const r = await lft(dir, "typo.lft", `${base}train grpo for 5 steps {\n  reward = exact_mach\n}\n`);
  expect(r.code).toBe(ExitCode.recipeError);
  expect(r.err).toContain(
    'typo.lft:5:12: unknown reward function "exact_mach"; did you mean "exact_match"? known reward functions: exact_match, length, regex',
  );
});

test("a reward's own options are checked against its schema", async () => {
  const missing = await lft(dir, "regex.lft", `${base}train grpo for 5 steps {\n  reward = regex\n}\n`);
  expect(missing.err).toContain('regex.lft:4:7: train "grpo": option "pattern" is required');
  const foreign = await lft(dir, "foreign.lft", `${base}train grpo for 5 steps {\n  reward = length\n  target = 3\n  pattern = "x"\n}\n`);
  expect(foreign.err).toContain('foreign.lft:7:3: train "grpo": unknown option "pattern"');
});
