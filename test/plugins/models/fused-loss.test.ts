// Every family's training loss equals the cross-entropy of its own logits: causalLmLoss fuses the output
// layer with the loss when a model offers outputWeight(), which is only right when the logits are exactly
// hidden · Wᵀ. A family that scales, soft-caps or otherwise changes its logits and still offered the weight
// would train on the wrong loss; this catches it for every registered family.
import { expect, test } from "bun:test";
import { type Batch, causalLmLoss, createRegistry, type ModelFamily, noGrad, ops, tensor, tidy } from "../../../core/index.ts";
import { modelPlugins } from "../../../plugins/models/index.ts";
import { randomFamilyModel, smallConfig } from "./family-checks.ts";

const registry = createRegistry();
for (const p of modelPlugins) registry.use(p)._unsafeUnwrap();
const families = registry.list("models") as unknown as ModelFamily[];

const [B, T] = [2, 7];
const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 37 + 11) % 64);
const batch: Batch = {
  batchSize: B,
  seqLen: T,
  inputIds: ids,
  labels: ids,
  attentionMask: new Int32Array(B * T).fill(1),
  positionIds: Int32Array.from({ length: B * T }, (_, i) => i % T),
  segmentIds: null,
};

/** Mean next-token cross-entropy computed from forward's full logits, in double. */
function lossFromLogits(logits: Float32Array, vocab: number): number {
  let sum = 0;
  let n = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t + 1 < T; t++) {
      const row = logits.subarray((b * T + t) * vocab, (b * T + t + 1) * vocab);
      const m = row.reduce((a, v) => Math.max(a, v), -Infinity);
      const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
      sum += m + Math.log(z) - row[ids[b * T + t + 1]!]!;
      n++;
    }
  return sum / n;
}

test("the fused output layer is what a plain head uses (the check below is not vacuous)", () => {
  const llama = families.find((f) => f.name === "llama")!;
  const model = randomFamilyModel(llama, smallConfig(llama));
  expect(model.outputWeight()).not.toBeNull();
  model.dispose();
});

for (const family of families) {
  test(`${family.name}: the training loss equals the cross-entropy of forward's logits`, () => {
    const model = randomFamilyModel(family, smallConfig(family), 2);
    noGrad(() =>
      tidy(() => {
        const logits = model.forward(tensor(ids, [B, T], { dtype: "i32" }), { positionIds: tensor(batch.positionIds, [B, T], { dtype: "i32" }) });
        const want = lossFromLogits(logits.toArray() as Float32Array, logits.shape[2]!);
        const got = causalLmLoss(model, batch).loss.item();
        expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
        expect(ops.reshape(logits, [B * T, logits.shape[2]!]).shape[0]).toBe(B * T);
      }),
    );
    model.dispose();
  });
}
