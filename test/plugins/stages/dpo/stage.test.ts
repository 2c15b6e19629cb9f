// The dpo and kto stage losses on the shipped stories260K model: per-sequence log-probs against a
// host log-softmax, the loss against the float64 formula on those log-probs (policy = LoRA adapters
// on, reference = adapters off), the gradient against finite differences, and the errors.
import { describe, expect, test } from "bun:test";
import { ok } from "neverthrow";
import { backward, type CausalLM, collateKtoRows, collatePairwise, IGNORE_INDEX, noGrad, type PairwiseSample, tensor, tidy } from "../../../../core/index.ts";
import { full, lora } from "../../../../plugins/methods/index.ts";
import { dpoLoss, ktoStageLoss, sequenceLogps } from "../../../../plugins/stages/index.ts";
import { family, loadStories, perturbTrainable } from "../../methods/helpers.ts";

const seq = (prompt: number[], reply: number[]) => ({ inputIds: [...prompt, ...reply], labels: [...prompt.map(() => IGNORE_INDEX), ...reply] });
const PAIRS: PairwiseSample[] = [
  { chosen: seq([1, 403, 407], [261, 496, 290]), rejected: seq([1, 403, 407], [11, 375]) },
  { chosen: seq([1, 290, 11, 375], [407, 261]), rejected: seq([1, 290, 11, 375], [496, 496, 403, 11]) },
];
const batch = collatePairwise(PAIRS, { padId: 0 });

/** Σ log softmax(logits)[label] over a row's labelled tokens, in float64 from the model's logits. */
function hostLogp(model: CausalLM, s: { inputIds: number[]; labels: number[] }): number {
  const T = s.inputIds.length;
  const logits = noGrad(() => tidy(() => model.forward(tensor(s.inputIds, [1, T], { dtype: "i32" })).toArray()));
  const V = logits.length / T;
  let total = 0;
  for (let t = 0; t + 1 < T; t++) {
    const target = s.labels[t + 1]!;
    if (target === IGNORE_INDEX) continue;
    const row = Array.from(logits.subarray(t * V, (t + 1) * V));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    total += row[target]! - lse;
  }
  return total;
}

const logSig = (x: number) => -Math.log1p(Math.exp(-x));

describe("dpo stage", () => {
  const model = loadStories();
  const m = lora.apply(model, { targets: ["q_proj", "v_proj"], rank: 4 }, family)._unsafeUnwrap();
  perturbTrainable(model, 3, 0.2);
  const rows = [...PAIRS.map((p) => p.chosen), ...PAIRS.map((p) => p.rejected)];

  test("sequence log-probs are the sums over the reply tokens (padding and prompt excluded)", () => {
    const got = noGrad(() => tidy(() => sequenceLogps(model, batch).values));
    rows.forEach((r, i) => {
      expect(got[i]!).toBeCloseTo(hostLogp(model, r), 3);
    });
    expect(noGrad(() => tidy(() => sequenceLogps(model, batch).lengths))).toEqual([3, 2, 2, 4]);
  });

  test("sigmoid loss: the formula on policy and reference (adapters off) log-probs; gradient matches finite differences", () => {
    const pol = rows.map((r) => hostLogp(model, r));
    const ref = m.withAdaptersDisabled!(() => rows.map((r) => hostLogp(model, r)))._unsafeUnwrap();
    const beta = 0.5;
    const h = [0, 1].map((i) => pol[i]! - pol[2 + i]! - (ref[i]! - ref[2 + i]!));
    const expected = -(logSig(beta * h[0]!) + logSig(beta * h[1]!)) / 2;
    const opts = { loss: "sigmoid", beta };
    const out = tidy(() => {
      const o = dpoLoss(model, batch, opts, { step: 1, micro: 0, method: m });
      backward(o.loss);
      return { value: o.loss.item(), weight: o.weight, metrics: o.metrics! };
    });
    expect(out.value).toBeCloseTo(expected, 4);
    expect(out.weight).toBe(2);
    expect(out.metrics["rewards/margins"]!).toBeCloseTo((beta * (h[0]! + h[1]!)) / 2, 3);
    expect(out.metrics["rewards/accuracies"]).toBe(h.filter((x) => x > 0).length / 2);
    // Directional finite difference along one adapter matrix.
    const [name, p] = Object.entries(m.params).find(([k]) => k.includes("lora_B"))!;
    const g = Array.from(p.grad!.toArray());
    const raw = Float32Array.from(g, (_, i) => Math.sin(i + 1));
    const norm = Math.hypot(...raw);
    const dir = raw.map((v) => v / norm);
    const analytic = g.reduce((a, v, i) => a + v * dir[i]!, 0);
    const base = Float32Array.from(p.toArray());
    const lossAt = (eps: number) => {
      model
        .setParameter(
          name,
          tensor(
            Float32Array.from(base, (v, i) => v + eps * dir[i]!),
            p.shape,
          ),
        )
        ._unsafeUnwrap();
      return noGrad(() => tidy(() => dpoLoss(model, batch, opts, { step: 1, micro: 0, method: m }).loss.item()));
    };
    const eps = 1e-3;
    const fd = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
    lossAt(0);
    for (const t of Object.values(m.params)) t.grad = null;
    expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
    expect(Math.abs(fd - analytic)).toBeLessThan(0.02 * Math.abs(analytic) + 1e-4);
  });

  test("orpo and simpo need no reference: they run without a method", () => {
    for (const loss of ["orpo", "simpo"]) {
      const v = noGrad(() => tidy(() => dpoLoss(model, batch, { loss, beta: 0.1 }, { step: 1, micro: 0 }).loss.item()));
      expect(Number.isFinite(v)).toBe(true);
    }
  });

  test("ftx adds the chosen reply's mean token NLL", () => {
    const base = noGrad(() => tidy(() => dpoLoss(model, batch, { beta: 0.1 }, { step: 1, micro: 0, method: m }).loss.item()));
    const mixed = noGrad(() => tidy(() => dpoLoss(model, batch, { beta: 0.1, ftx: 0.5 }, { step: 1, micro: 0, method: m }).loss.item()));
    const sft = (-hostLogp(model, rows[0]!) / 3 + -hostLogp(model, rows[1]!) / 2) / 2;
    expect(mixed - base).toBeCloseTo(0.5 * sft, 3);
  });

  test("kto: the batch's own rows and KL rows, rewards against the adapters-off reference", () => {
    const kb = collateKtoRows(
      [
        { seq: PAIRS[0]!.chosen, kl: PAIRS[1]!.rejected, desirable: true },
        { seq: PAIRS[1]!.rejected, kl: PAIRS[0]!.chosen, desirable: false },
      ],
      { padId: 0 },
    );
    const out = noGrad(() => tidy(() => ktoStageLoss(model, kb, { beta: 0.2 }, { step: 1, micro: 0, method: m })));
    const pol = [hostLogp(model, PAIRS[0]!.chosen), hostLogp(model, PAIRS[1]!.rejected)];
    const ref = m.withAdaptersDisabled!(() => [hostLogp(model, PAIRS[0]!.chosen), hostLogp(model, PAIRS[1]!.rejected)])._unsafeUnwrap();
    expect(out.metrics!["rewards/chosen"]!).toBeCloseTo(0.2 * (pol[0]! - ref[0]!), 3);
    expect(out.metrics!["rewards/rejected"]!).toBeCloseTo(0.2 * (pol[1]! - ref[1]!), 3);
    expect(out.weight).toBe(2);
  });

  test("full fine-tuning: an explicit ref_model folder is the reference; without one, a clear error", () => {
    const other = loadStories();
    const f = full.apply(other, {}, family)._unsafeUnwrap();
    // An explicit reference model: a second, frozen copy; the same weights give rewards 0 and loss ln 2.
    const reference = loadStories();
    const asked: string[] = [];
    const loadFrozen = (path: string) => {
      asked.push(path);
      return ok(reference);
    };
    const out = noGrad(() => tidy(() => dpoLoss(other, batch, { loss: "sigmoid", ref_model: "ref" }, { step: 1, micro: 0, method: f, loadFrozen })));
    expect(out.metrics!["rewards/margins"]!).toBeCloseTo(0, 5);
    expect(asked).toEqual(["ref"]);
    // Without one: a clear error (after the run above: a throw inside tidy frees the model's lazily built caches).
    expect(() => noGrad(() => tidy(() => dpoLoss(other, batch, { loss: "sigmoid" }, { step: 1, micro: 0, method: f })))).toThrow(
      'method full trains the base weights themselves; use method lora, give a reference model folder (ref_model = "..."), or a loss that needs no reference (dpo: loss = orpo or simpo)',
    );
    reference.dispose();
    other.dispose();
  });
});
