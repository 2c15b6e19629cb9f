// One rank of a data-parallel test run (started by mpirun from ddp.test.ts, or alone): the tiny
// decoder trained by core's train() with the engine the launcher implies. Writes its losses and a
// weight fingerprint to <out>.rank<r>.json. Env: DDP_STEPS, DDP_ACCUMULATION, DDP_CKDIR,
// DDP_SAVE_EVERY, DDP_KILL_RANK + DDP_KILL_STEP (that rank SIGKILLs itself at that step).
import "../../../lft.ts";
import { writeFileSync } from "node:fs";
import { createRegistry, train } from "../../../core/index.ts";
import dist, { openCollectives } from "../../../plugins/dist/index.ts";
import { adamw } from "../../../plugins/optimizers/index.ts";
import { tinyBatches, tinyRun } from "../../core/train/tiny-run.ts";

const env = process.env;
const registry = createRegistry();
registry.use(dist)._unsafeUnwrap();
const opened = openCollectives(registry, env.DDP_ENGINE);
if (opened.isErr()) {
  process.stderr.write(`${opened.error.message}\n`);
  process.exit(2);
}
const collectives = opened.value;
const run = tinyRun();
const killRank = Number(env.DDP_KILL_RANK ?? -1);
const killStep = Number(env.DDP_KILL_STEP ?? -1);
const result = await train({
  params: run.params,
  optimizer: adamw({ lr: 1e-2 }),
  steps: Number(env.DDP_STEPS ?? 4),
  accumulation: Number(env.DDP_ACCUMULATION ?? 1),
  batches: tinyBatches(32),
  lossFn: (batch, ctx) => {
    if (collectives.rank === killRank && ctx.step === killStep) process.kill(process.pid, "SIGKILL");
    return run.lossFn(batch, ctx);
  },
  collectives,
  bucketBytes: Number(env.DDP_BUCKET_BYTES ?? 4096),
  progress: false,
  ...(env.DDP_CKDIR ? { checkpoint: { dir: env.DDP_CKDIR, every: Number(env.DDP_SAVE_EVERY ?? 1), keep: 0 } } : {}),
});
if (result.isErr()) {
  process.stderr.write(`${result.error.message}\n`);
  process.exit(1);
}
const weights = Object.fromEntries(Object.entries(run.params).map(([name, p]) => [name, Array.from(p.toArray())]));
const out = env.DDP_OUT ?? "ddp";
writeFileSync(
  `${out}.rank${collectives.rank}.json`,
  JSON.stringify({
    rank: collectives.rank,
    size: collectives.size,
    engine: collectives.engine,
    losses: result.value.losses,
    resumedFromStep: result.value.resumedFromStep ?? null,
    weights,
  }),
);
collectives.close();
