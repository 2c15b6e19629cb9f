// One rank of bench/zero.ts: stories260K with every weight trainable, a synthetic loss (Σ p²/2, so each
// gradient is its parameter), gradients averaged over the ranks, AdamW plain or ZeRO-1 (ZERO=1). Prints one
// JSON line per rank: the optimizer-state bytes it holds, ms per optimizer step (update, plus the all-gather
// under ZeRO) and per averaging of gradients, and a checksum of the weights (equal on every rank).
import { join } from "node:path";
import { backward, buildGroups, createRegistry, loadModel, type Optimizer, ops, tensor, tidy } from "../lft.ts";
import dist, { openCollectives } from "../plugins/dist/index.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { adamw, ZeroOptimizer, zeroOptimizer } from "../plugins/optimizers/index.ts";

const STEPS = Number(process.env.STEPS ?? 10);
const registry = createRegistry();
for (const p of builtinPlugins) if (p.name !== dist.name) registry.use(p)._unsafeUnwrap();
registry.use(dist)._unsafeUnwrap();
const comm = openCollectives(registry, undefined)._unsafeUnwrap();
const { model } = loadModel(join(import.meta.dir, "../examples/models/stories260K"), registry)._unsafeUnwrap();
const named = Object.fromEntries(model.namedParameters());
for (const t of Object.values(named)) t.requiresGrad = true;
const groups = buildGroups(named, { weightDecay: 0.01 })._unsafeUnwrap();
const params = groups.flatMap((g) => g.params);
const factory = process.env.ZERO === "1" ? zeroOptimizer(adamw({ lr: 1e-3 }), comm) : adamw({ lr: 1e-3 });
const opt: Optimizer = factory(groups, { totalSteps: STEPS })._unsafeUnwrap();
let updateMs = 0;
let reduceMs = 0;
for (let step = 1; step <= STEPS; step++) {
  tidy(() => {
    backward(params.map((p) => ops.mul(ops.sum(ops.mul(p, p)), tensor([0.5], [1]))).reduce((a, b) => ops.add(a, b)));
    const t0 = performance.now();
    for (const p of params) comm.allReduce(p.grad!, "mean")._unsafeUnwrap();
    const t1 = performance.now();
    opt.update();
    const t2 = performance.now();
    opt.zeroGrad();
    // The first step allocates the state: time the steady state only.
    if (step > 1) {
      reduceMs += t1 - t0;
      updateMs += t2 - t1;
    }
  });
}
const stateBytes = opt instanceof ZeroOptimizer ? opt.localStateBytes() : [...opt.exportState().tensors.values()].reduce((n, t) => n + t.bytes, 0);
const checksum = params.reduce((s, p) => s + Array.from(p.toArray()).reduce((a, b) => a + b, 0), 0);
const total = params.reduce((n, p) => n + p.numel, 0);
console.log(
  JSON.stringify({
    rank: comm.rank,
    size: comm.size,
    zero: process.env.ZERO === "1",
    parameters: total,
    stateBytes,
    updateMsPerStep: updateMs / (STEPS - 1),
    gradAverageMsPerStep: reduceMs / (STEPS - 1),
    checksum,
  }),
);
opt.dispose();
model.dispose();
comm.close();
