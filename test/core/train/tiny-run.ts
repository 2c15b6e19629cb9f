// Shared setup for the train tests: the tiny decoder (test/helpers) on a learnable synthetic corpus
// (each sequence follows next = (3·cur + 1) mod vocab from a random start), with optional seeded
// dropout on the embedding and head weights so the run's random stream matters.
import { type LossFn, ops, shuffledBatches, type Tensor, tensor } from "../../../core/index.ts";
import { randomInts } from "../../helpers/random.ts";
import { TINY, type TinyDims, tinyLoss, tinyParams } from "../../helpers/tiny-decoder.ts";

export function corpus(n: number, d: TinyDims = TINY, seed = 11): Int32Array[] {
  const starts = randomInts(n, seed, d.vocab);
  return Array.from(starts, (s) => {
    const seq = new Int32Array(d.seq);
    seq[0] = s;
    for (let t = 1; t < d.seq; t++) seq[t] = (3 * seq[t - 1]! + 1) % d.vocab;
    return seq;
  });
}

export interface TinyRun {
  params: Record<string, Tensor>;
  lossFn: LossFn<Int32Array[]>;
  dispose(): void;
}

export function tinyRun(o: { dropout?: number; seed?: number; dims?: TinyDims } = {}): TinyRun {
  const d = o.dims ?? TINY;
  const params = tinyParams(d, o.seed ?? 1);
  const positions = tensor(
    Int32Array.from({ length: d.batch * d.seq }, (_, i) => i % d.seq),
    [d.batch, d.seq],
    { dtype: "i32" },
  );
  const invFreq = tensor(ops.ropeInvFreq(d.dim / d.heads, 10000), [d.dim / d.heads / 2]);
  const lossFn: LossFn<Int32Array[]> = (batch, ctx) => {
    const ids = new Int32Array(d.batch * d.seq);
    for (const [i, s] of batch.entries()) ids.set(s, i * d.seq);
    let w = params;
    if (o.dropout) {
      const drop = (t: Tensor) => ops.dropout(t, { p: o.dropout!, seed: ctx.rng.seed, offset: ctx.rng.offsetFor(t.numel) });
      w = { ...params, embed: drop(params.embed!), head: drop(params.head!) };
    }
    return { loss: tinyLoss(d, w, ids, positions, invFreq), tokens: d.batch * (d.seq - 1) };
  };
  return {
    params,
    lossFn,
    dispose() {
      for (const p of Object.values(params)) p.dispose();
      positions.dispose();
      invFreq.dispose();
    },
  };
}

export function tinyBatches(n = 16, seed: number | undefined = 5, d: TinyDims = TINY) {
  return shuffledBatches(corpus(n, d), { batchSize: d.batch, seed, dropLast: true });
}
