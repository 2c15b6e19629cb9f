// Cross-entropy over a vocabulary, fused: one kernel gives per-row loss and log-sum-exp, the backward
// rebuilds softmax from lse, so no [rows, vocab] probability matrix is stored. Rows whose target is
// ignoreIndex (prompt tokens, padding) contribute nothing and do not count towards the mean.
import { expectArray, expectRank } from "../../backend/check.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

export type LossReduction = "mean" | "sum" | "none";

export interface CrossEntropyOptions {
  /** targets equal to this are skipped; default -100, as PyTorch and HF labels */
  ignoreIndex?: number;
  /** 'mean' divides by the number of non-ignored rows (0 such rows gives 0); default 'mean' */
  reduction?: LossReduction;
}

interface CrossEntropyState {
  logits: Tensor;
  targets: Tensor;
  lse: Tensor;
  ignoreIndex: number;
  reduction: LossReduction;
  /** dL/dloss[r] for 'mean' and 'sum' */
  rowScale: number;
}

const REDUCTIONS: readonly LossReduction[] = ["mean", "sum", "none"];

/** logits [N, V] f32, targets [N] i32 -> scalar loss (shape []) or, with reduction 'none', loss [N]. */
export const crossEntropy = defineOp<[Tensor, Tensor, CrossEntropyOptions?], CrossEntropyState>({
  name: "crossEntropy",
  forward(ctx, logits, targets, opts = {}) {
    const op = "crossEntropy";
    const ignoreIndex = opts.ignoreIndex ?? -100;
    const reduction = opts.reduction ?? "mean";
    if (!REDUCTIONS.includes(reduction)) throw new RangeError(`${op}: reduction must be one of ${REDUCTIONS.join(", ")}, got ${String(reduction)}`);
    if (!Number.isInteger(ignoreIndex) || ignoreIndex < -(2 ** 31) || ignoreIndex >= 2 ** 31)
      throw new RangeError(`${op}: ignoreIndex must be a 32-bit integer, got ${ignoreIndex}`);
    expectArray(op, "logits", logits, "f32");
    expectRank(op, "logits", logits, 2);
    expectArray(op, "targets", targets, "i32", [logits.shape[0]!]);
    const rows = logits.shape[0]!;
    const loss = allocLike(logits, [rows]);
    const lse = allocLike(logits, [rows]);
    try {
      // An empty batch has nothing to compute (and no target buffer for the binding to scan).
      if (rows > 0) logits.backend.crossEntropyForward(loss, lse, logits, targets, ignoreIndex);
    } catch (e) {
      loss.dispose();
      lse.dispose();
      throw e;
    }
    let rowScale = 1;
    let out = loss;
    if (reduction !== "none") {
      if (reduction === "mean") {
        let counted = 0;
        for (const t of targets.toArray()) if (t !== ignoreIndex) counted++;
        rowScale = counted > 0 ? 1 / counted : 0;
      }
      out = allocLike(logits, []);
      logits.backend.fill(out, logits.backend.sum(loss) * rowScale);
      loss.dispose();
    }
    ctx.state = { logits: ctx.save(logits), targets: ctx.save(targets), lse: ctx.save(lse), ignoreIndex, reduction, rowScale };
    lse.dispose();
    return out;
  },
  backward(ctx, g) {
    const { logits, targets, lse, ignoreIndex, reduction, rowScale } = ctx.state;
    const dlogits = allocLike(logits);
    if (logits.shape[0] === 0) return [dlogits, null];
    let grow = g;
    if (reduction !== "none") {
      grow = allocLike(g, [logits.shape[0]!]);
      g.backend.expandRows(grow, g, rowScale);
    }
    g.backend.crossEntropyBackward(dlogits, grow, logits, lse, targets, ignoreIndex);
    if (grow !== g) grow.dispose();
    return [dlogits, null];
  },
});
