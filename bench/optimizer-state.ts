// Optimizer state bytes on stories260K with every weight trainable (method full): the formula each
// entry declares (stateBytes) and what the optimizer really holds after 12 steps, for adamw, badam
// (layer, ratio), adam_mini and muon. Run: bun bench/optimizer-state.ts  (writes bench/results/optimizer-state.json)
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { backward, buildGroups, createRegistry, loadModel, type OptimizerEntry, ops, optimizerFactory, tensor, tidy } from "../lft.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { adamMiniEntry, adamwEntry, badamEntry, muonEntry } from "../plugins/optimizers/index.ts";

const dir = join(import.meta.dir, "../examples/models/stories260K");
const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
const { model } = loadModel(dir, registry)._unsafeUnwrap();
const named = Object.fromEntries(model.namedParameters());
for (const t of Object.values(named)) t.requiresGrad = true;
const groups = buildGroups(named, { weightDecay: 0.01 })._unsafeUnwrap();
const params = groups.flatMap((g) => g.params);
const total = params.reduce((n, p) => n + p.numel, 0);

const cases: [string, OptimizerEntry, Record<string, number | string | boolean>][] = [
  ["adamw", adamwEntry, {}],
  ["badam layer", badamEntry, { switch_interval: 5 }],
  ["badam ratio 0.05", badamEntry, { mode: "ratio" }],
  ["adam_mini", adamMiniEntry, {}],
  ["muon", muonEntry, {}],
];
const rows = cases.map(([name, entry, options]) => {
  const opt = optimizerFactory(entry, 1e-3, options, model.spec)(groups, { totalSteps: 12 })._unsafeUnwrap();
  let peak = 0;
  for (let step = 1; step <= 12; step++) {
    tidy(() => {
      // A gradient for every parameter that requires one: d/dp sum(p²)/2 = p.
      const live = params.filter((p) => p.requiresGrad);
      backward(live.map((p) => ops.mul(ops.sum(ops.mul(p, p)), tensor([0.5], [1]))).reduce((a, b) => ops.add(a, b)));
      opt.update();
      opt.zeroGrad();
    });
    peak = Math.max(
      peak,
      [...opt.exportState().tensors.values()].reduce((n, t) => n + t.numel * 4, 0),
    );
  }
  const resolved = {
    ...Object.fromEntries(Object.entries(entry.options ?? {}).flatMap(([k, s]) => (s.default === undefined ? [] : [[k, s.default]]))),
    ...options,
  };
  const formula = entry.stateBytes(groups, resolved, model.spec);
  opt.dispose();
  return { optimizer: name, formulaBytes: formula, heldPeakBytes: peak, bytesPerParam: +(peak / total).toFixed(3) };
});
const out = { model: "stories260K", parameters: total, date: new Date().toISOString(), rows };
console.log(JSON.stringify(out, null, 2));
writeFileSync(join(import.meta.dir, "results/optimizer-state.json"), `${JSON.stringify(out, null, 2)}\n`);
model.dispose();
