// The optimizer entries as the registry holds them: options validated against each entry's own schema
// when train() builds the optimizer (messages name the option), combinations the schema cannot
// express refused by build, and stateBytes equal to the state an optimizer really holds.
import { describe, expect, test } from "bun:test";
import {
  backward,
  buildGroups,
  createRegistry,
  type OptimizerEntry,
  ops,
  optimizerFactory,
  type ParamGroup,
  type Tensor,
  tensor,
  tidy,
} from "../../../core/index.ts";
import optimizersPlugin, { adamwEntry, sgdEntry } from "../../../plugins/optimizers/index.ts";
import { randomArray } from "../../helpers/random.ts";

function params(): Record<string, Tensor> {
  return { "a.weight": tensor(randomArray(12, 1), [3, 4], { requiresGrad: true }), "a.bias": tensor(randomArray(3, 2), [3], { requiresGrad: true }) };
}

function build(entry: OptimizerEntry, lr: number, options: Record<string, unknown>, groups: readonly ParamGroup[]) {
  return optimizerFactory(entry, lr, options)(groups, { totalSteps: 10 });
}

describe("optimizer entries", () => {
  test("the plugin registers adamw, sgd, badam, adam_mini, muon, galore and apollo with their option schemas", async () => {
    const registry = createRegistry();
    (await registry.use(optimizersPlugin))._unsafeUnwrap();
    expect(registry.list("optimizers").map((e) => e.name)).toEqual(["adam_mini", "adamw", "apollo", "badam", "galore", "muon", "sgd"]);
    expect(Object.keys(registry.get("optimizers", "adamw")._unsafeUnwrap().options ?? {})).toEqual(["beta1", "beta2", "eps"]);
    expect(Object.keys(registry.get("optimizers", "sgd")._unsafeUnwrap().options ?? {})).toEqual(["momentum", "dampening", "nesterov"]);
  });

  test("bad values are refused by name, from the schema or from build", () => {
    const p = params();
    const groups = buildGroups(p, { weightDecay: 0 })._unsafeUnwrap();
    const message = (entry: OptimizerEntry, lr: number, o: Record<string, unknown>) => build(entry, lr, o, groups)._unsafeUnwrapErr().message;
    expect(message(adamwEntry, 1e-3, { beta2: 1 })).toMatch(/optimizer "adamw": beta2 must be in \[0, 1\), found 1/);
    expect(message(adamwEntry, 1e-3, { beta1: -0.1 })).toMatch(/optimizer "adamw": option "beta1" must be in \[0, 1\]/);
    expect(message(adamwEntry, 1e-3, { betas: 0.9 })).toMatch(/unknown option "betas"; did you mean "beta1"/);
    expect(message(sgdEntry, Number.NaN, {})).toMatch(/optimizer "sgd": lr must be a finite number/);
    expect(message(sgdEntry, 0.1, { momentum: 0, nesterov: true })).toMatch(/nesterov needs momentum > 0 and dampening 0/);
    expect(message(sgdEntry, 0.1, { nesterov: "yes" })).toMatch(/option "nesterov" expects a boolean/);
    for (const t of Object.values(p)) t.dispose();
  });

  test("options reach the optimizer; schema defaults fill the rest", () => {
    const p = params();
    const groups = buildGroups(p, { weightDecay: 0 })._unsafeUnwrap();
    const a = build(adamwEntry, 2e-3, { beta2: 0.95 }, groups)._unsafeUnwrap();
    expect(a.lr).toBe(2e-3);
    expect(a.exportState().meta.hyper).toEqual({ beta1: 0.9, beta2: 0.95, eps: 1e-8 });
    const s = build(sgdEntry, 0.1, { nesterov: true }, groups)._unsafeUnwrap();
    expect(s.exportState().meta.hyper).toEqual({ momentum: 0.9, dampening: 0, nesterov: true });
    a.dispose();
    s.dispose();
    for (const t of Object.values(p)) t.dispose();
  });

  for (const [entry, options] of [
    [adamwEntry, {}],
    [sgdEntry, {}],
    [sgdEntry, { momentum: 0 }],
  ] as const) {
    test(`${entry.name} ${JSON.stringify(options)}: stateBytes is the state held after every parameter has stepped`, () => {
      const p = params();
      const groups = buildGroups(p, { weightDecay: 0.1 })._unsafeUnwrap();
      const opt = build(entry, 0.01, options, groups)._unsafeUnwrap();
      tidy(() => {
        backward(ops.add(ops.sum(ops.mul(p["a.weight"]!, p["a.weight"]!)), ops.sum(p["a.bias"]!)));
        opt.update();
        opt.zeroGrad();
      });
      const held = [...opt.exportState().tensors.values()].reduce((n, t) => n + t.numel * 4, 0);
      const resolved = { ...Object.fromEntries(Object.entries(entry.options ?? {}).map(([k, s]) => [k, s.default!])), ...options };
      expect(entry.stateBytes(groups, resolved)).toBe(held);
      expect(held).toBe(entry.name === "adamw" ? 2 * 15 * 4 : "momentum" in options ? 0 : 15 * 4);
      opt.dispose();
      for (const t of Object.values(p)) t.dispose();
    });
  }
});
