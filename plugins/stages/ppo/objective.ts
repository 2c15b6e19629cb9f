// The PPO loss as one autograd op over the policy's per-token log-probs and the critic's per-token
// values (both [rows·seqLen], with graphs): forward and analytic backward are ppoTerms (math.ts).
import { defineOp, type Tensor, tensor } from "../../../core/index.ts";
import { type PpoSettings, type PpoTerms, type PpoTokens, ppoTerms } from "./math.ts";

interface State {
  terms: PpoTerms;
}

export const ppoObjective = defineOp<[Tensor, Tensor, PpoTokens, PpoSettings, ((terms: PpoTerms) => void)?], State>({
  name: "ppoObjective",
  forward(ctx, logps, values, tokens, settings, report) {
    if (logps.numel !== tokens.mask.length || values.numel !== tokens.mask.length)
      throw new RangeError(`ppoObjective: ${logps.numel} log-probs and ${values.numel} values for ${tokens.mask.length} positions`);
    const terms = ppoTerms(logps.toArray(), values.toArray(), tokens, settings);
    report?.(terms);
    ctx.state = { terms };
    return tensor([terms.loss], [], { backend: logps.backend });
  },
  backward(ctx, g) {
    const scale = g.item();
    const { gradLogps, gradValues } = ctx.state.terms;
    const out = (a: Float64Array) =>
      tensor(
        Float32Array.from(a, (v) => v * scale),
        [a.length],
        { backend: g.backend },
      );
    return [out(gradLogps), out(gradValues)];
  },
});
