// Per-op profile of one full fine-tuning step at train.bench's 22M Llama shape: each op's forward and
// backward time (exclusive of ops it runs inside) through core's OpProfiler, plus the optimizer, the
// gradient-norm pass and the rest (JS glue, scope bookkeeping). Times are the process's CPU time (all
// its threads), which other processes' load does not inflate the way it inflates wall time; GEMM work is
// what matmul and the linear ops do, the rest is what the step spends beside the GEMM ceiling. The step's
// model FLOPs per CPU-second against a 1024³ sgemm's on the same clock give its share of the GEMM ceiling
// without the noise of other processes' load (wall-clock GFLOP/s is what train.bench reports).
// Run: bun bench/op-profile.ts [--seq T] [--steps N] [--method full|lora]   -> bench/results/op-profile.json
import { loadavg } from "node:os";
import { Philox } from "../core/random/philox.ts";
import { backward, blasInfo, causalLmLoss, cpuBackend, createRegistry, familyByName, methodEntry, setOpProfiler, Tensor, tidy } from "../lft.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { AdamW } from "../plugins/optimizers/index.ts";
import { llamaBenchConfig } from "./lib/llama-shape.ts";
import { table, writeResults } from "./lib/results.ts";
import { randomTokenBatch } from "./lib/token-batch.ts";

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const SHAPE = { dim: 256, layers: 8, heads: 8, kv: 4, ffn: 688, vocab: 32000, seq: Number(arg("--seq", "512")), batch: 4 };
const STEPS = Number(arg("--steps", "2"));
const METHOD = arg("--method", "full");

const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
const family = familyByName(registry, "llama")._unsafeUnwrap();
const model = family.build(family.fromConfig(llamaBenchConfig(SHAPE), "bench")._unsafeUnwrap());
model.initParameters({ seed: 1, std: 0.02 });
const options = METHOD === "lora" ? { rank: 8, alpha: 16, targets: ["q_proj", "v_proj"] } : {};
const applied = methodEntry(registry.get("methods", METHOD)._unsafeUnwrap())._unsafeUnwrap().apply(model, options, family, { seed: 1 })._unsafeUnwrap();
const params = Object.values(applied.params);
const opt = new AdamW(params, { lr: 1e-4 });
const batch = randomTokenBatch(SHAPE, new Philox(1n));

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const totals = new Map<string, { ms: number; calls: number }>();
const add = (key: string, ms: number) => {
  const e = totals.get(key) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls++;
  totals.set(key, e);
};
const timed = (key: string, fn: () => void) => {
  const t = cpuMs();
  fn();
  add(key, cpuMs() - t);
};

const step = (profile: boolean) =>
  tidy(() => {
    applied.beginForward();
    if (profile) setOpProfiler({ now: cpuMs, record: (op, phase, ms) => add(`${op} ${phase}`, ms) });
    const { loss } = causalLmLoss(model, batch);
    backward(loss);
    setOpProfiler(null);
    const run = profile ? timed : (_k: string, fn: () => void) => fn();
    run("(gradient norm pass)", () => {
      let sq = 0;
      for (const p of params) if (p.grad) sq += cpuBackend.sumSquares(p.grad);
      if (!Number.isFinite(sq)) throw new Error("non-finite gradient");
    });
    run("(AdamW update)", () => opt.update());
    run("(zero grads)", () => opt.zeroGrad());
  });

step(false);
let stepCpu = 0;
let stepWall = 0;
for (let i = 0; i < STEPS; i++) {
  const c = cpuMs();
  const w = performance.now();
  step(true);
  stepCpu += cpuMs() - c;
  stepWall += performance.now() - w;
}
const measured = [...totals.values()].reduce((a, e) => a + e.ms, 0);
add("(rest: JS glue, scopes)", stepCpu - measured);
totals.get("(rest: JS glue, scopes)")!.calls = STEPS;

/** The step's model FLOPs (as train.bench counts them: GEMMs + causal attention, no recompute). */
function stepFlops(): number {
  const { dim, layers, heads, kv, ffn, vocab, seq, batch } = SHAPE;
  const hd = dim / heads;
  const linear = layers * (dim * heads * hd + 2 * dim * kv * hd + heads * hd * dim + 3 * dim * ffn) + vocab * dim;
  const attention = 3 * 2 * batch * heads * seq * seq * hd * layers;
  return (METHOD === "full" ? 6 : 4) * batch * seq * linear + attention;
}

/** FLOPs per CPU-ms of a 1024³ cblas_sgemm (best of 5): the ceiling on the same clock as the profile. */
function gemmFlopsPerCpuMs(n = 1024): number {
  const [a, b, c] = [0, 1, 2].map(() => Tensor.alloc(cpuBackend, [n, n], "f32", false));
  cpuBackend.fill(a!, 0.5);
  cpuBackend.fill(b!, 0.25);
  let best = Number.POSITIVE_INFINITY;
  cpuBackend.matmul(c!, a!, b!);
  for (let i = 0; i < 5; i++) {
    const t = cpuMs();
    cpuBackend.matmul(c!, a!, b!);
    best = Math.min(best, cpuMs() - t);
  }
  for (const t of [a, b, c]) t!.dispose();
  return (2 * n ** 3) / best;
}
const ceilingPerCpuMs = gemmFlopsPerCpuMs();
const stepPerCpuMs = stepFlops() / (stepCpu / STEPS);
const ofCeilingCpu = stepPerCpuMs / ceilingPerCpuMs;

const GEMM = /^(matmul|halfLinear|frozenLinear|linearCrossEntropy) /;
const rows = [...totals.entries()]
  .map(([key, e]) => ({ key, msPerStep: e.ms / STEPS, callsPerStep: e.calls / STEPS, share: e.ms / stepCpu, gemm: GEMM.test(key) }))
  .sort((a, b) => b.msPerStep - a.msPerStep);
const gemmShare = rows.filter((r) => r.gemm).reduce((a, r) => a + r.share, 0);
console.log(
  `${METHOD} step, shape ${JSON.stringify(SHAPE)}; BLAS ${blasInfo().corename} x${blasInfo().threads}; load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(
      " ",
    )}; CPU ${(stepCpu / STEPS).toFixed(0)} ms/step, wall ${(stepWall / STEPS).toFixed(0)} ms/step; GEMM ops ${(100 * gemmShare).toFixed(1)}% of CPU time; step at ${(100 * ofCeilingCpu).toFixed(1)}% of the sgemm ceiling in CPU time (${(stepPerCpuMs / 1e6).toFixed(1)} vs ${(ceilingPerCpuMs / 1e6).toFixed(1)} GFLOP per CPU-s)`,
);
console.log(
  table(
    rows.map((r) => ({
      "op phase": r.key,
      "CPU ms/step": r.msPerStep.toFixed(1),
      "calls/step": r.callsPerStep,
      share: `${(100 * r.share).toFixed(1)}%`,
      GEMM: r.gemm ? "yes" : "",
    })),
  ),
);
const path = writeResults(`op-profile-${METHOD}`, {
  shape: SHAPE,
  method: METHOD,
  steps: STEPS,
  blas: blasInfo(),
  loadAverage: loadavg(),
  clock: "process CPU time (user + system, all threads); linearCrossEntropy counts as GEMM (its softmax passes are inside it)",
  cpuMsPerStep: Math.round(stepCpu / STEPS),
  wallMsPerStep: Math.round(stepWall / STEPS),
  gemmShare: Number(gemmShare.toFixed(3)),
  stepGflopPerCpuS: Number((stepPerCpuMs / 1e6).toFixed(2)),
  gemmCeilingGflopPerCpuS: Number((ceilingPerCpuMs / 1e6).toFixed(2)),
  ofCeilingCpuTime: Number(ofCeilingCpu.toFixed(3)),
  rows: rows.map((r) => ({ ...r, msPerStep: Number(r.msPerStep.toFixed(1)), share: Number(r.share.toFixed(4)) })),
});
console.log(`wrote ${path}`);
