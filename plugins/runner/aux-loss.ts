// A model's auxiliary loss (a mixture of experts' router load balancing, core's AuxiliaryLoss) added to a
// stage's loss as transformers adds it: loss + coefficient x term, the term over the micro-batch's
// gradient-enabled forwards with its padding left out, and logged as its own metric (`aux_loss`).
// The coefficient is the recipe's moe_aux_loss_coef, else what the checkpoint's config asks for.
import { type Batch, type CausalLM, type LossFn, ops } from "../../core/index.ts";

/** The recipe's moe_aux_loss_coef when it gives one, else the model's own default (0 without an auxiliary loss). */
export function auxiliaryCoefficient(model: CausalLM, given: unknown): number {
  return typeof given === "number" ? given : (model.auxiliaryLoss?.defaultCoefficient ?? 0);
}

/** lossFn with coefficient x the model's auxiliary loss added; lossFn itself when there is none or the coefficient is 0. */
export function withAuxiliaryLoss(model: CausalLM, coefficient: number, lossFn: LossFn<Batch>): LossFn<Batch> {
  const aux = model.auxiliaryLoss;
  if (!aux || !(coefficient > 0)) return lossFn;
  return (batch, ctx) => {
    aux.begin();
    let out: ReturnType<LossFn<Batch>>;
    try {
      out = lossFn(batch, ctx);
    } catch (e) {
      aux.end();
      throw e;
    }
    const term = aux.end(batch.attentionMask);
    if (!term) return out;
    const value = term.item();
    const loss = ops.add(out.loss, ops.reshape(ops.scale(term, coefficient), out.loss.shape));
    return { ...out, loss, metrics: { ...out.metrics, [aux.name]: value } };
  };
}
