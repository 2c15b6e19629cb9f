// One rank of bench/ddp.ts: a ~2M-parameter Llama (every weight trainable) trained for a few steps by
// core's train() on the engine its launcher implies (one rank, or MPI under mpirun). Prints one JSON
// line from rank 0: global tokens/s over the steps after the first, and this rank's memory.
import { ok } from "neverthrow";
import { Philox } from "../core/random/philox.ts";
import { type Batch, causalLmLoss, cpuBackend, createRegistry, familyByName, methodEntry, type ResumableBatches, tensor, train, zeros } from "../lft.ts";
import { openCollectives } from "../plugins/dist/index.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { adamw } from "../plugins/optimizers/index.ts";
import { llamaBenchConfig } from "./lib/llama-shape.ts";
import { randomTokenBatch } from "./lib/token-batch.ts";

export const SHAPE = { dim: 128, layers: 4, heads: 4, kv: 2, ffn: 344, vocab: 4096, seq: 128, batch: 2 };
const STEPS = Number(process.env.DDP_BENCH_STEPS ?? 8);

const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
const collectives = openCollectives(registry, "auto")._unsafeUnwrap();
const family = familyByName(registry, "llama")._unsafeUnwrap();
const spec = family.fromConfig(llamaBenchConfig(SHAPE), "bench")._unsafeUnwrap();
const model = family.build(spec);
model.initParameters({ seed: 1, std: 0.02 });
const applied = methodEntry(registry.get("methods", "full")._unsafeUnwrap())._unsafeUnwrap().apply(model, {}, family, { seed: 1 })._unsafeUnwrap();

/** Random rows, a different batch each call: the global stream every rank shards. */
function randomBatches(): ResumableBatches<Batch> {
  let i = 0;
  return {
    next: () => randomTokenBatch(SHAPE, new Philox(7n, BigInt(i++) * 1_000_000n)),
    state: () => i,
    restore(s) {
      i = Number(s);
      return ok(undefined);
    },
  };
}

const times: number[] = [];
let tokens = 0;
const result = await train<Batch>({
  params: applied.params,
  optimizer: adamw({ lr: 1e-4 }),
  steps: STEPS,
  batches: randomBatches(),
  lossFn: (b) => causalLmLoss(model, b),
  collectives,
  progress: false,
  handlers: [
    {
      name: "bench",
      onStep: (e) => {
        times.push(e.elapsedMs);
        if (e.step > 1) tokens += e.tokens;
      },
    },
  ],
});
if (result.isErr()) throw result.error;
const trainable = Object.values(applied.params).reduce((n, p) => n + p.numel, 0);
const mine = { rank: collectives.rank, peakBytes: cpuBackend.allocator.stats().peakBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
// Every rank's memory, gathered to all (rank 0 prints).
const gathered = zeros([collectives.size * 2]);
collectives.allGather(tensor([mine.peakBytes, mine.maxRssBytes]), gathered)._unsafeUnwrap();
const g = Array.from(gathered.toArray());
if (collectives.rank === 0) {
  const seconds = (times.at(-1)! - times[0]!) / 1000;
  console.log(
    JSON.stringify({
      ranks: collectives.size,
      engine: collectives.engine,
      steps: STEPS,
      globalBatch: SHAPE.batch * collectives.size,
      trainableParameters: trainable,
      gradientBytesPerStep: trainable * 4,
      tokensPerS: Math.round(tokens / seconds),
      losses: result.value.losses.map((l) => Number(l.toFixed(5))),
      perRank: Array.from({ length: collectives.size }, (_, r) => ({ rank: r, allocatorPeakBytes: g[2 * r], maxRssBytes: g[2 * r + 1] })),
    }),
  );
}
collectives.close();
