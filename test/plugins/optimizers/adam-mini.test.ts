// Adam-mini against a float64 transcription of its update rule (the adam-mini package LLaMA-Factory
// calls): AdamW with the second moment replaced by one running mean of squared gradients per block —
// per attention head for q/k, per row for v/o/MLP/embedding/head, per tensor for norms. Five steps on
// small tensors with two kv heads (GQA k_proj); f32 vs f64 within 1e-5. State bytes equal the formula.
import { describe, expect, test } from "bun:test";
import { buildGroups, type ModelSpec, optimizerFactory, type Tensor, tensor, tidy } from "../../../core/index.ts";
import { adamMiniEntry, blockKind, headDimOf } from "../../../plugins/optimizers/index.ts";
import { randomArray } from "../../helpers/random.ts";
import { setGrads } from "./set-grads.ts";

const HIDDEN = 4;
const HEADS = 2; // head size 2
const PARAMS: [string, number[], number][] = [
  // name, shape, entries per block
  ["model.layers.0.self_attn.q_proj.weight", [4, 4], 8],
  ["model.layers.0.self_attn.k_proj.weight", [2, 4], 8],
  ["model.layers.0.self_attn.v_proj.weight", [2, 4], 4],
  ["model.layers.0.mlp.down_proj.weight", [4, 3], 3],
  ["model.embed_tokens.weight", [5, 4], 4],
  ["model.layers.0.input_layernorm.weight", [4], 4],
];
const model = { hiddenSize: HIDDEN, config: { num_attention_heads: HEADS } } as unknown as ModelSpec;

describe("Adam-mini", () => {
  test("blocks: heads for q/k, rows for the rest of the 2-D weights, tensors otherwise", () => {
    expect(PARAMS.map(([name, s]) => blockKind(name, s.length))).toEqual(["head", "head", "row", "row", "row", "tensor"]);
    expect(headDimOf(model)).toBe(2);
  });

  test("5 steps vs the f64 reference; state bytes equal the formula", () => {
    const [lr, wd, b1, b2, eps] = [0.01, 0.1, 0.9, 0.95, 1e-6];
    const params: Record<string, Tensor> = Object.fromEntries(
      PARAMS.map(([name, shape], i) => [
        name,
        tensor(
          randomArray(
            shape.reduce((a, b) => a * b),
            30 + i,
            -1,
            1,
          ),
          shape,
          { requiresGrad: true, name },
        ),
      ]),
    );
    const groups = buildGroups(params, { weightDecay: wd })._unsafeUnwrap();
    const opt = optimizerFactory(adamMiniEntry, lr, { beta2: b2, eps }, model)(groups, { totalSteps: 5 })._unsafeUnwrap();
    const list = groups.flatMap((g) => g.params);
    const names = groups.flatMap((g) => g.names);
    const size = names.map((nm) => PARAMS.find(([n]) => n === nm)![2]);
    const decay = groups.flatMap((g) => g.params.map(() => g.weightDecay));
    const ref = list.map((p) => Float64Array.from(p.toArray() as Float32Array));
    const m = list.map((p) => new Float64Array(p.numel));
    const v = list.map((p, i) => new Float64Array(p.numel / size[i]!));
    for (let t = 1; t <= 5; t++) {
      tidy(() => {
        const grads = list.map((p, i) => randomArray(p.numel, 900 * t + i, -1, 1));
        setGrads(list, grads);
        opt.update();
        opt.zeroGrad();
        list.forEach((p, i) => {
          const g = grads[i]!;
          const w = ref[i]!;
          const s = size[i]!;
          for (let b = 0; b < v[i]!.length; b++) {
            let sq = 0;
            for (let e = b * s; e < (b + 1) * s; e++) sq += g[e]! * g[e]!;
            v[i]![b] = b2 * v[i]![b]! + (1 - b2) * (sq / s);
            const h = Math.sqrt(v[i]![b]!) / Math.sqrt(1 - b2 ** t) + eps;
            for (let e = b * s; e < (b + 1) * s; e++) {
              w[e] = w[e]! * (1 - lr * decay[i]!);
              m[i]![e] = b1 * m[i]![e]! + (1 - b1) * g[e]!;
              w[e] = w[e]! - ((lr / (1 - b1 ** t)) * m[i]![e]!) / h;
            }
          }
          const got = p.toArray() as Float32Array;
          for (let e = 0; e < got.length; e++) expect(Math.abs(got[e]! - w[e]!)).toBeLessThan(1e-5);
        });
      });
    }
    const held = [...opt.exportState().tensors.values()].reduce((a, x) => a + x.numel * 4, 0);
    // First moments: 16+8+8+12+20+4 = 68 entries; second: 2+1+2+4+5+1 = 15 blocks.
    expect(held).toBe(4 * 68 + 4 * 15);
    expect(adamMiniEntry.stateBytes(groups, {}, model)).toBe(held);
    // Without the model (no head size) q/k are counted per row (4 + 2 blocks instead of 2 + 1): an upper bound.
    expect(adamMiniEntry.stateBytes(groups, {})).toBe(held + 4 * 3);
    opt.dispose();
    for (const p of Object.values(params)) p.dispose();
  });

  test("q/k weights without a model (no head size) are refused", () => {
    const p = { "layers.0.q_proj.weight": tensor(randomArray(16, 1), [4, 4], { requiresGrad: true }) };
    const groups = buildGroups(p, { weightDecay: 0 })._unsafeUnwrap();
    expect(optimizerFactory(adamMiniEntry, 0.01, {})(groups, { totalSteps: 1 })._unsafeUnwrapErr().message).toMatch(
      /split per attention head, but the head size is unknown/,
    );
    p["layers.0.q_proj.weight"].dispose();
  });
});
