// `train ppo` through the CLI with model sharing. A reward model is trained first by `train rm` on
// synthetic story pairs (the right next word chosen over a wrong one); PPO then loads that reward
// adapter as a second adapter set on the same base and switches it in to score its rollouts: the rm's
// mean score of the rollouts rises clearly. The output holds the policy adapter and the critic's
// value_head.safetensors. A full reward model folder (reward_model_type = full) works as well. Bad
// input: no reward source fails `lft check` at the train block; a reward adapter from another base is
// a load-time error naming its file, with nothing written to the output folder.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openSafetensors, writeSafetensors } from "../../../core/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { VALUE_HEAD_BIAS, VALUE_HEAD_WEIGHT } from "../../../plugins/stages/index.ts";
import { type LftRun, lft, REPO, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("ppo");
afterAll(cleanup);

const TASK: [string, string][] = [
  ["Once upon a time, there was a little", "boy"],
  ["One day, a little", "boy"],
  ["Tom and", "Ben"],
  ["The sun was", "shining"],
];
const WRONG = ["girl", "dog", "Lily", "cat", "a", "sad", "happy", "the"];

const head = (method: string) => `model llama "${STORIES}" { template = empty }
dataset "story_pairs" { dir = "." }
method ${method}
`;
const ppoRecipe = (extra: string, steps = 64) => `model llama "${STORIES}" { template = empty }
dataset alpaca "${REPO}/examples/data/story_words.json" { prompt = "question", response = "answer" }
method lora { rank = 8, alpha = 16, targets = [all] }
train ppo for ${steps} steps {
${extra}
  max_new_tokens = 3
  ppo_buffer_size = 4
  ppo_epochs = 2
  init_kl_coef = 0.05
  batch = 4
  lr = 1e-3
  scheduler = constant
  seed = 7
  log_every = 8
}
`;

/** ppo/mean_scores of each progress line. */
const scores = (err: string) => [...err.matchAll(/ppo\/mean_scores (-?[\d.]+)/g)].map((m) => Number(m[1]));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

let rm: LftRun;
let ppo: LftRun;
beforeAll(async () => {
  const pairs = TASK.flatMap(([q, a]) => WRONG.map((w) => ({ instruction: q, chosen: a, rejected: w })));
  writeFileSync(join(dir, "story_pairs.json"), JSON.stringify(pairs));
  writeFileSync(join(dir, "dataset_info.json"), JSON.stringify({ story_pairs: { file_name: "story_pairs.json", ranking: true } }));
  rm = await lft(
    dir,
    "rm.lft",
    `${head("lora { rank = 8, alpha = 16, targets = [all] }")}train rm for 40 steps { lr = 5e-3, batch = 8, output = "runs/rm" }\n`,
  );
  ppo = await lft(dir, "ppo.lft", ppoRecipe('  reward_model = "runs/rm"\n  output = "runs/ppo"'));
}, 120_000);

test("ppo with the rm's reward adapter switched in on the shared base raises the reward model's mean score", () => {
  expect(rm.code).toBe(ExitCode.ok);
  expect(ppo.err).not.toMatch(/\n\s+at /);
  expect(ppo.code).toBe(ExitCode.ok);
  const s = scores(ppo.err);
  // One logged value per rollout (each rollout serves 8 mini-batches). Measured: −1.72 0.33 1.33 2.30 2.25 2.55 2.54 2.52.
  expect(s.length).toBe(8);
  expect(s[0]!).toBeLessThan(0);
  expect(mean(s.slice(-3))).toBeGreaterThan(s[0]! + 2);
  expect(ppo.out).toContain("train ppo: lora adapter + value_head.safetensors written to runs/ppo");
  for (const k of ["ppo/loss/policy", "ppo/loss/value", "objective/kl", "objective/kl_coef"]) expect(ppo.err).toContain(k);
  const vh = openSafetensors(join(dir, "runs/ppo/value_head.safetensors"))._unsafeUnwrap();
  expect([...vh.names()].sort()).toEqual([VALUE_HEAD_BIAS, VALUE_HEAD_WEIGHT].sort());
  vh.close();
  expect(existsSync(join(dir, "runs/ppo/adapter_model.safetensors"))).toBe(true);
});

test("a full reward model folder (reward_model_type = full) scores the rollouts as a second, frozen model", async () => {
  const full = await lft(dir, "rm-full.lft", `${head("full")}train rm for 10 steps { lr = 1e-3, batch = 8, output = "runs/rm-full" }\n`);
  expect(full.code).toBe(ExitCode.ok);
  const r = await lft(dir, "ppo-full.lft", ppoRecipe('  reward_model = "runs/rm-full"\n  reward_model_type = full\n  output = "runs/ppo-full"', 8));
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(ExitCode.ok);
  expect(scores(r.err).length).toBe(1);
  expect(existsSync(join(dir, "runs/ppo-full/value_head.safetensors"))).toBe(true);
}, 60_000);

test("a ppo recipe with no reward source fails lft check at the train block", async () => {
  const r = await lft(dir, "no-reward.lft", ppoRecipe('  output = "runs/none"', 4));
  expect(r.code).toBe(ExitCode.recipeError);
  expect(r.err).toContain("no-reward.lft:4:7: train ppo needs a reward source");
  expect(existsSync(join(dir, "runs/none"))).toBe(false);
});

test("a reward adapter from a different base is a load-time error naming the file; nothing is written", async () => {
  cpSync(join(dir, "runs/rm"), join(dir, "runs/rm-other"), { recursive: true });
  const file = join(dir, "runs/rm-other/adapter_model.safetensors");
  const f = openSafetensors(file)._unsafeUnwrap();
  // The same adapter for a base of hidden size 32 (this one has 64): every lora_A is [r, 32].
  const entries = f.names().map((name) => {
    const t = f.tensor(name, { dtype: "f32" })._unsafeUnwrap();
    if (!name.endsWith("lora_A.weight") || !name.includes("q_proj")) return { name, data: t };
    const [r, inF] = t.shape as [number, number];
    const v = t.toArray();
    const cut = Float32Array.from({ length: r * (inF / 2) }, (_, i) => v[Math.floor(i / (inF / 2)) * inF + (i % (inF / 2))]!);
    return { name, data: new Uint8Array(cut.buffer), shape: [r, inF / 2], dtype: "F32" as const };
  });
  f.close();
  writeSafetensors(file, entries as never)._unsafeUnwrap();
  const r = await lft(dir, "other.lft", ppoRecipe('  reward_model = "runs/rm-other"\n  output = "runs/ppo-other"', 4));
  expect(r.code).not.toBe(ExitCode.ok);
  expect(r.err).toContain(`${file}: `);
  expect(r.err).toMatch(/q_proj\.lora_A\.weight" is \[8, 32\], this base needs \[8, 64\]/);
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(existsSync(join(dir, "runs/ppo-other/adapter_model.safetensors"))).toBe(false);
}, 60_000);
