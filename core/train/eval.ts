// The usual evaluation: the stage's loss (and its metrics) over a validation set, token-weighted, without gradients.
// Pass `() => evalLoss(valBatches(), lossFn)` as train()'s eval.fn (the loop adds perplexity).
import { noGrad } from "../autograd/tape.ts";
import { tidy } from "../tensor/scope.ts";
import type { EvalOutput } from "./loop.ts";
import { TrainRng } from "./rng.ts";
import { type LossFn, MetricMeans } from "./step.ts";

export function evalLoss<B>(batches: Iterable<B>, lossFn: LossFn<B>): EvalOutput {
  let weighted = 0;
  let weights = 0;
  // Evaluation draws no training randomness: its own stream, so evaluating never shifts dropout masks.
  const rng = new TrainRng(0n);
  let micro = 0;
  const means = new MetricMeans();
  for (const batch of batches) {
    const [value, w] = noGrad(() =>
      tidy(() => {
        const out = lossFn(batch, { step: 0, micro: micro++, rng });
        const w = out.weight ?? out.tokens;
        means.add(out.metrics, w);
        return [out.loss.item(), w] as const;
      }),
    );
    weighted += value * w;
    weights += w;
  }
  if (weights === 0) throw new Error("evalLoss: the evaluation set has no batches with target tokens");
  const metrics = means.result();
  return metrics ? { loss: weighted / weights, metrics } : { loss: weighted / weights };
}
