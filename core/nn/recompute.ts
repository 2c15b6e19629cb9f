// Activation checkpointing as one autograd op: the forward runs fn without recording and keeps only
// its inputs; the backward re-runs fn with recording on and backpropagates through that fresh graph. A
// decoder block then holds one [B, T, hidden] tensor between forward and backward instead of every
// activation inside it.

import { backward, defineOp, enableGrad, isGradEnabled } from "../autograd/tape.ts";
import { zeros } from "../tensor/create.ts";
import { tidy } from "../tensor/scope.ts";
import type { Tensor } from "../tensor/tensor.ts";

type BlockFn = (...inputs: Tensor[]) => Tensor;

interface Saved {
  inputs: Tensor[];
  fn: BlockFn;
}

const recomputeOp = defineOp<[readonly Tensor[], readonly Tensor[], BlockFn], Saved>({
  name: "recompute",
  forward(ctx, inputs, _params, fn) {
    // Recording is off here (defineOp): fn's intermediates die with this scope; only its output lives.
    const out = tidy(() => fn(...inputs));
    ctx.state = { inputs: inputs.map((t) => ctx.save(t)), fn };
    return out;
  },
  backward(ctx, g) {
    const { inputs, fn } = ctx.state;
    return tidy(() => {
      // Fresh leaves over the saved inputs: the recomputed graph ends here, not in the outer graph.
      const leaves = inputs.map((t, i) => {
        const leaf = t.view(t.shape);
        leaf.requiresGrad = ctx.needsGrad[i]!;
        return leaf;
      });
      const out = enableGrad(() => fn(...leaves));
      // Parameters are leaves of the recomputed graph too, so this accumulates their .grad directly.
      if (out.node) backward(out, g);
      const grads: (Tensor | null)[] = leaves.map((leaf, i) => {
        if (!ctx.needsGrad[i]) return null;
        if (!leaf.grad) return zeros(leaf.shape);
        // A tracked view, so the engine's scope frees it like any other op's gradient.
        const gi = leaf.grad.view(leaf.grad.shape);
        leaf.grad.dispose();
        leaf.grad = null;
        return gi;
      });
      return [...grads, ...new Array<null>(ctx.needsGrad.length - inputs.length).fill(null)];
    });
  },
});

/**
 * fn(...inputs), recomputed in backward instead of keeping its activations. `params` are the leaf
 * tensors fn reads besides its inputs (a block's weights): listing them makes the op record when only
 * they need gradients; their gradients accumulate into `.grad` during the recomputation. Every tensor
 * fn reads that carries a graph must be among `inputs`, and fn must be deterministic (no fresh dropout
 * seeds), since it runs twice.
 */
export function recompute(fn: BlockFn, inputs: readonly Tensor[], params: readonly Tensor[]): Tensor {
  const needed = isGradEnabled() && (inputs.some((t) => t.requiresGrad) || params.some((t) => t.requiresGrad));
  if (!needed) return fn(...inputs);
  return recomputeOp(inputs, params, fn);
}
