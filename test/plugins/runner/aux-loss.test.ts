// The router load-balancing loss in training: the wrapper adds coefficient x the model's term (padding
// left out) and logs it as `aux_loss`; the coefficient is moe_aux_loss_coef, else the config's own; a
// Mixtral recipe with moe_aux_loss_coef trains with the term recorded on the run, refuses it with
// activation checkpointing, and a family without one is warned.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { backward, causalLmLoss, collate, RunStore, TrainRng, tidy } from "../../../core/index.ts";
import { makeTiny } from "../../../plugins/commands/index.ts";
import { mixtral } from "../../../plugins/models/mixtral.ts";
import { qwen2_moe } from "../../../plugins/models/qwen2_moe.ts";
import { auxiliaryCoefficient, withAuxiliaryLoss } from "../../../plugins/runner/aux-loss.ts";
import { randomFamilyModel, smallConfig } from "../models/family-checks.ts";
import { type LftRun, lft, STORIES, scratch } from "./helpers.ts";

test("the wrapper adds coefficient x the term over the unpadded tokens, logs it, and leaves the loss alone at 0", () => {
  const model = randomFamilyModel(qwen2_moe, smallConfig(qwen2_moe), 3);
  const batch = collate(
    [
      { inputIds: [1, 5, 9, 13, 17, 21], labels: [1, 5, 9, 13, 17, 21] },
      { inputIds: [3, 3, 60, 0], labels: [3, 3, 60, 0] },
    ],
    { padId: 0 },
  );
  const ctx = { step: 1, micro: 0, rng: new TrainRng(1n) };
  const base = (b: typeof batch) => causalLmLoss(model, b);
  expect(withAuxiliaryLoss(model, 0, base)).toBe(base);
  tidy(() => {
    const plain = base(batch).loss.item();
    const aux = model.auxiliaryLoss!;
    aux.begin();
    base(batch);
    const term = aux.end(batch.attentionMask)!.item();
    const out = withAuxiliaryLoss(model, 0.5, base)(batch, ctx);
    expect(out.metrics!.aux_loss).toBeCloseTo(term, 6);
    expect(out.loss.item()).toBeCloseTo(plain + 0.5 * term, 5);
    // With padding counted the term would differ: the batch's attention mask was applied.
    aux.begin();
    base(batch);
    expect(Math.abs(aux.end()!.item() - term)).toBeGreaterThan(1e-7);
    backward(out.loss);
    expect(model.getParameter("model.layers.0.mlp.gate.weight")!.grad).not.toBeNull();
  });
  expect(auxiliaryCoefficient(model, 0.25)).toBe(0.25);
  expect(auxiliaryCoefficient(model, undefined)).toBe(0);
  model.dispose();
});

const { dir, cleanup } = scratch("aux");
afterAll(cleanup);
let run: LftRun;
const recipe = (train: string, model = `mixtral "tiny"`) => `model ${model} { dtype = f32 }
dataset text "corpus.txt"
method lora { rank = 4, targets = [w1, w2, w3] }
train pt for 3 steps { lr = 1e-3, batch = 2, cutoff = 32, log_every = 1${train} }
`;

beforeAll(async () => {
  makeTiny(mixtral, join(dir, "tiny"), { seed: 3 })._unsafeUnwrap();
  writeFileSync(join(dir, "corpus.txt"), `${Array.from({ length: 8 }, (_, i) => `Line ${i}: the cat sat on the mat ${i} times.`).join("\n")}\n`);
  run = await lft(dir, "aux.lft", recipe(", moe_aux_loss_coef = 0.01"));
}, 60_000);

test("a Mixtral recipe with moe_aux_loss_coef trains with the router loss recorded as a metric", () => {
  expect(run.err).not.toMatch(/\n\s+at /);
  expect(run.code).toBe(0);
  const store = RunStore.open(join(dir, ".lft", "runs.sqlite"))._unsafeUnwrap();
  try {
    const [r] = store.listRuns();
    const names = store.metricNames(r!.id);
    const name = names.find((n) => n.endsWith("aux_loss"));
    expect(name).toBeDefined();
    const values = store.metric(r!.id, name!).map((m) => m.value);
    expect(values.length).toBe(3);
    // E * sum f * P is 1 for perfectly balanced routing and at most E; a random router sits near 1.
    for (const v of values) expect(v).toBeGreaterThan(0.5);
  } finally {
    store.close();
  }
});

test("moe_aux_loss_coef with checkpointing is refused; on a family without routers it is warned and ignored", async () => {
  const refused = await lft(dir, "ckpt.lft", recipe(", moe_aux_loss_coef = 0.01, checkpointing = true"));
  expect(refused.code).not.toBe(0);
  expect(refused.out + refused.err).toContain("moe_aux_loss_coef cannot be combined with checkpointing = true");
  const dense = await lft(dir, "dense.lft", recipe(", moe_aux_loss_coef = 0.01", `llama "${STORIES}"`).replace("targets = [w1, w2, w3]", "targets = [q_proj]"));
  expect(dense.code).toBe(0);
  expect(dense.out + dense.err).toContain("moe_aux_loss_coef: the llama family has no router auxiliary loss; ignored");
});
