// `optimizer = adamw`: AdamW over f32 parameters in groups (each with its own lr multiplier and weight
// decay), one fused native step per tensor (the backend's adamwStep). Moments are f32 and live until
// dispose(). Parameters without a gradient this step are skipped (frozen or unused): as in
// torch.optim.AdamW, each keeps its own step count, so its bias correction counts only its own
// updates. State exports for checkpoints as "exp_avg" / "exp_avg_sq" slots (torch's names).
import { err, ok, type Result } from "neverthrow";
import {
  exportSlots,
  type HostTensor,
  type NonFiniteParam,
  normaliseGroups,
  type OptimizerEntry,
  type OptimizerFactory,
  type OptimizerMeta,
  type OptionSchema,
  type OptionsOf,
  type ParamGroupInput,
  stateTensor,
  type Tensor,
} from "../../core/index.ts";
import { checkBelowOne, codeFactory, totalNumel } from "./entry-helpers.ts";
import { FlatOptimizer } from "./flat-params.ts";
import { disposeMoments, loadMoments } from "./moments.ts";

/** What a recipe may set besides lr and weight_decay (`train sft { optimizer = adamw, beta2 = 0.95 }`). */
export const adamwOptions = {
  beta1: { type: "number", min: 0, max: 1, default: 0.9, doc: "decay of the first moment (mean of gradients); below 1" },
  beta2: { type: "number", min: 0, max: 1, default: 0.999, doc: "decay of the second moment (mean of squared gradients); below 1" },
  eps: { type: "number", min: 0, default: 1e-8, doc: "added to the second moment's root in the denominator" },
} as const satisfies OptionSchema;

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Default for groups that do not set their own. */
  weightDecay?: number;
}

/** Per-parameter state: the two moments and how many updates this parameter has had. */
interface ParamState {
  m: Tensor;
  v: Tensor;
  step: number;
}

export class AdamW extends FlatOptimizer {
  readonly kind = "adamw";
  readonly elementwiseSlots = ["exp_avg", "exp_avg_sq"] as const;
  private state = new Map<Tensor, ParamState>();
  /** The first parameter the last update() left with NaN/±Inf values, as the fused kernel counted them. */
  private lastNonFinite: NonFiniteParam | null = null;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: readonly Tensor[] | readonly ParamGroupInput[], o: AdamWOptions) {
    super(normaliseGroups(params, o.weightDecay ?? 0), o.lr);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
  }

  private stateOf(p: Tensor): ParamState {
    let st = this.state.get(p);
    if (!st) {
      st = { m: stateTensor(p), v: stateTensor(p), step: 0 };
      this.state.set(p, st);
    }
    return st;
  }

  /** One update with the current gradients. */
  update(): void {
    this.step++;
    this.lastNonFinite = null;
    for (const g of this.groups) {
      const lr = this.lr * g.lrScale;
      for (const [i, p] of g.params.entries()) {
        if (!p.grad) continue;
        const st = this.stateOf(p);
        const hyper = { lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: g.weightDecay, step: st.step + 1 };
        const bad = p.backend.adamwStep(p, p.grad, st.m, st.v, hyper);
        if (bad > 0 && !this.lastNonFinite) this.lastNonFinite = { name: g.names[i]!, count: bad };
        st.step++;
      }
    }
  }

  /** No second pass: the kernel counted the non-finite values it wrote. */
  override nonFinite(): NonFiniteParam | null {
    return this.lastNonFinite;
  }

  exportState(): { meta: OptimizerMeta; tensors: Map<string, Tensor> } {
    const { params, tensors } = exportSlots(this.params, this.state, (st) => [
      ["exp_avg", st.m],
      ["exp_avg_sq", st.v],
    ]);
    const meta = this.stateMeta(params, { beta1: this.beta1, beta2: this.beta2, eps: this.eps });
    return { meta, tensors };
  }

  importState(raw: unknown, tensors: ReadonlyMap<string, HostTensor>): Result<void, Error> {
    const meta = this.checkState(raw);
    if (meta.isErr()) return err(meta.error);
    const loaded: [Tensor, { m: Float32Array; v: Float32Array }, number][] = [];
    for (const { index, step } of meta.value.params) {
      const p = this.params[index]!;
      const mv = loadMoments(tensors, index, p, this.names[index]!);
      if (mv.isErr()) return err(mv.error);
      loaded.push([p, mv.value, step]);
    }
    disposeMoments(this.state);
    for (const [p, s, step] of loaded) this.state.set(p, { m: stateTensor(p, s.m), v: stateTensor(p, s.v), step });
    this.step = meta.value.step;
    return ok(undefined);
  }

  dispose(): void {
    disposeMoments(this.state);
  }
}

export const adamwEntry: OptimizerEntry = {
  name: "adamw",
  doc: "AdamW (decoupled weight decay; fused kernel, f32 moments)",
  options: adamwOptions,
  build(groups, { lr, options }) {
    const o = options as OptionsOf<typeof adamwOptions>;
    return checkBelowOne("adamw", o, ["beta1", "beta2"]).map(() => new AdamW(groups, { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps }));
  },
  // Two f32 moments per element.
  stateBytes: (groups) => 8 * totalNumel(groups),
};

/** AdamW for train() called from code: `train({ optimizer: adamw({ lr: 1e-3 }), weightDecay: 0.01, ... })`. */
export function adamw(o: Omit<AdamWOptions, "weightDecay">): OptimizerFactory {
  return codeFactory(adamwEntry, { ...o });
}
