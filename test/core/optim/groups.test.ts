// Parameter groups: no-decay exclusions for norms and biases, per-group lr multipliers (LoRA+ style).
// How an optimizer honours them is tested with each optimizer (test/plugins/optimizers/).
import { describe, expect, test } from "bun:test";
import { buildGroups, type Tensor, tensor } from "../../../core/index.ts";
import { randomArray } from "../../helpers/random.ts";

function named(): Record<string, Tensor> {
  const t = (n: number[], seed: number, name: string) =>
    tensor(
      randomArray(
        n.reduce((a, b) => a * b, 1),
        seed,
      ),
      n,
      { requiresGrad: true, name },
    );
  return {
    "layers.0.attn.q_proj.weight": t([4, 4], 1, "q"),
    "layers.0.attn.q_proj.bias": t([4], 2, "qb"),
    "layers.0.input_layernorm.weight": t([4], 3, "ln"),
    "layers.0.q_proj.lora_B.weight": t([4, 2], 4, "B"),
    "embed_tokens.weight": t([6, 4], 5, "emb"),
  };
}

describe("parameter groups", () => {
  test("norms and biases get no weight decay; rules set lr multipliers and their own decay", () => {
    const p = named();
    const rules = [{ name: "lora_B", match: (n: string) => n.includes("lora_B"), lrScale: 16 }];
    const groups = buildGroups(p, { weightDecay: 0.1, rules })._unsafeUnwrap();
    const byName = Object.fromEntries(groups.flatMap((g) => g.names.map((n) => [n, { wd: g.weightDecay, lr: g.lrScale, group: g.name }])));
    expect(byName["layers.0.attn.q_proj.weight"]).toEqual({ wd: 0.1, lr: 1, group: "default" });
    expect(byName["layers.0.attn.q_proj.bias"]).toEqual({ wd: 0, lr: 1, group: "default/no_decay" });
    expect(byName["layers.0.input_layernorm.weight"]).toEqual({ wd: 0, lr: 1, group: "default/no_decay" });
    expect(byName["layers.0.q_proj.lora_B.weight"]).toEqual({ wd: 0.1, lr: 16, group: "lora_B" });
    expect(byName["embed_tokens.weight"]).toEqual({ wd: 0.1, lr: 1, group: "default" });
    expect(groups).toHaveLength(3);
    for (const t of Object.values(p)) t.dispose();
  });

  test("frozen or non-f32 parameters are refused with the parameter's name", () => {
    const frozen = tensor([1, 2], [2]);
    expect(buildGroups({ "x.weight": frozen }, { weightDecay: 0 })._unsafeUnwrapErr().message).toMatch(/"x.weight" .* does not require a gradient/);
    expect(buildGroups({}, { weightDecay: 0 })._unsafeUnwrapErr().message).toMatch(/no trainable parameters/);
    frozen.dispose();
  });
});
