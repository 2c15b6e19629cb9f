// Shared setup for the method tests: the shipped stories260K model (a real trained Llama in HF layout,
// 5 layers, tied embeddings), a registry with the llama family and the methods. LoRA's float64
// references are in lora/reference.ts.
import { resolve } from "node:path";
import {
  type AppliedMethod,
  type CausalLM,
  createRegistry,
  type LoadModelOptions,
  type LossFn,
  loadModel,
  noGrad,
  ops,
  randn,
  tensor,
  tidy,
} from "../../../core/index.ts";
import methodsPlugin from "../../../plugins/methods/index.ts";
import llamaPlugin, { llama } from "../../../plugins/models/llama.ts";

export const STORIES = resolve(import.meta.dir, "../../../examples/models/stories260K");
export const registry = createRegistry();
registry.use(llamaPlugin);
registry.use(methodsPlugin);
export const family = llama;

export function loadStories(opts: LoadModelOptions = {}): CausalLM {
  return loadModel(STORIES, registry, opts)._unsafeUnwrap().model;
}

export const IDS = [1, 403, 407, 261, 496, 290, 11, 375];

/** Logits of one row of ids, in eval mode and without gradients. */
export function logitsOf(model: CausalLM, ids: readonly number[] = IDS): Float32Array {
  return noGrad(() => tidy(() => model.forward(tensor(ids, [1, ids.length], { dtype: "i32" })).toArray() as Float32Array));
}

/** Replaces every trainable parameter by N(0, std) values, as training would move them away from the init. */
export function perturbTrainable(model: CausalLM, seed: number, std = 0.05): void {
  model.trainableParameters().forEach(([path, t], i) => {
    const shift = randn(t.shape, { seed, offset: BigInt(i) << 32n, std });
    const values = t.toArray();
    const sv = shift.toArray();
    shift.dispose();
    model
      .setParameter(
        path,
        tensor(
          Float32Array.from(values, (v, j) => v + sv[j]!),
          t.shape,
        ),
      )
      ._unsafeUnwrap();
  });
}

/** A few fixed stories-like token rows (ids < 512) for training runs. */
export const ROWS = Array.from({ length: 6 }, (_, r) => Array.from({ length: 12 }, (_, t) => 1 + ((r * 37 + t * 11) % 500)));

/** Next-token cross-entropy over a batch of rows; each forward starts with the method's beginForward(ctx.rng). */
export function lossFnFor(model: CausalLM, applied: AppliedMethod): LossFn<number[][]> {
  return (batch, ctx) => {
    applied.beginForward(ctx.rng);
    const T = batch[0]!.length - 1;
    const ids = tensor(
      batch.flatMap((row) => row.slice(0, T)),
      [batch.length, T],
      { dtype: "i32" },
    );
    const targets = tensor(
      batch.flatMap((row) => row.slice(1)),
      [batch.length * T],
      { dtype: "i32" },
    );
    const logits = ops.reshape(model.forward(ids), [batch.length * T, model.spec.vocabSize]);
    return { loss: ops.crossEntropy(logits, targets), tokens: batch.length * T };
  };
}
