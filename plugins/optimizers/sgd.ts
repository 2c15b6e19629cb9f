// `optimizer = sgd`: SGD with momentum, as torch.optim.SGD computes it (coupled L2 weight decay,
// dampening, Nesterov), composed from the backend's copy/scale/axpy so it runs on every backend
// without a kernel of its own:
//   d = g + wd·p;  buf = d (first update) | mu·buf + (1 - dampening)·d;  d = nesterov ? d + mu·buf : buf
//   p -= lr·d
import { err, ok, type Result } from "neverthrow";
import {
  checkHyper,
  exportSlots,
  type HostTensor,
  normaliseGroups,
  type OptimizerEntry,
  type OptimizerFactory,
  type OptimizerMeta,
  type OptionSchema,
  type OptionsOf,
  type ParamGroupInput,
  slotData,
  stateTensor,
  Tensor,
} from "../../core/index.ts";
import { codeFactory, totalNumel } from "./entry-helpers.ts";
import { FlatOptimizer } from "./flat-params.ts";

/** What a recipe may set besides lr and weight_decay (`train sft { optimizer = sgd, momentum = 0.5 }`). */
export const sgdOptions = {
  // 0.9, not torch's 0: what `optimizer = sgd` has always meant in a recipe.
  momentum: { type: "number", min: 0, default: 0.9, doc: "momentum factor (0: plain SGD, no buffer kept)" },
  dampening: { type: "number", min: 0, default: 0, doc: "damps the gradient's share of the momentum buffer" },
  nesterov: { type: "boolean", default: false, doc: "Nesterov momentum (needs momentum > 0 and dampening 0)" },
} as const satisfies OptionSchema;

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** Default for groups that do not set their own (L2, added to the gradient). */
  weightDecay?: number;
}

const NESTEROV_NEEDS = "sgd: Nesterov momentum needs momentum > 0 and dampening 0";

export class SGD extends FlatOptimizer {
  readonly kind = "sgd";
  readonly elementwiseSlots = ["momentum_buffer"] as const;
  /** Momentum buffers and each parameter's own update count. */
  private state = new Map<Tensor, { buf: Tensor | null; step: number }>();
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;

  constructor(params: readonly Tensor[] | readonly ParamGroupInput[], o: SGDOptions) {
    super(normaliseGroups(params, o.weightDecay ?? 0), o.lr);
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.nesterov = o.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new RangeError(NESTEROV_NEEDS);
  }

  update(): void {
    checkHyper("sgd", { lr: this.lr, momentum: this.momentum, dampening: this.dampening });
    this.step++;
    for (const group of this.groups) {
      const lr = this.lr * group.lrScale;
      const wd = group.weightDecay;
      checkHyper("sgd", { weightDecay: wd });
      for (const p of group.params) {
        const g = p.grad;
        if (!g) continue;
        const b = p.backend;
        let st = this.state.get(p);
        if (!st) {
          st = { buf: null, step: 0 };
          this.state.set(p, st);
        }
        // d must not alias the gradient when it is changed in place (the caller may still read .grad).
        let d = g;
        let scratch: Tensor | null = null;
        if (wd !== 0 || this.nesterov) {
          scratch = Tensor.alloc(b, p.shape, "f32", false);
          b.copy(scratch, g);
          if (wd !== 0) b.axpy(scratch, p, wd);
          d = scratch;
        }
        if (this.momentum !== 0) {
          if (!st.buf) {
            st.buf = Tensor.alloc(b, p.shape, "f32", false);
            b.copy(st.buf, d);
          } else {
            b.scale(st.buf, st.buf, this.momentum);
            b.axpy(st.buf, d, 1 - this.dampening);
          }
          if (this.nesterov) b.axpy(d, st.buf, this.momentum);
          else d = st.buf;
        }
        b.axpy(p, d, -lr);
        scratch?.dispose();
        st.step++;
      }
    }
  }

  exportState(): { meta: OptimizerMeta; tensors: Map<string, Tensor> } {
    const { params, tensors } = exportSlots(this.params, this.state, (st) => [["momentum_buffer", st.buf]]);
    const meta = this.stateMeta(params, { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov });
    return { meta, tensors };
  }

  importState(raw: unknown, tensors: ReadonlyMap<string, HostTensor>): Result<void, Error> {
    const meta = this.checkState(raw);
    if (meta.isErr()) return err(meta.error);
    const loaded: [Tensor, Float32Array | null, number][] = [];
    for (const { index, step } of meta.value.params) {
      const p = this.params[index]!;
      // Momentum 0 keeps no buffer; with momentum every updated parameter has one.
      if (this.momentum === 0 || step === 0) {
        loaded.push([p, null, step]);
        continue;
      }
      const buf = slotData(tensors, index, "momentum_buffer", p, this.names[index]!);
      if (buf.isErr()) return err(buf.error);
      loaded.push([p, buf.value, step]);
    }
    this.disposeState();
    for (const [p, data, step] of loaded) this.state.set(p, { buf: data ? stateTensor(p, data) : null, step });
    this.step = meta.value.step;
    return ok(undefined);
  }

  private disposeState(): void {
    for (const { buf } of this.state.values()) buf?.dispose();
    this.state.clear();
  }

  dispose(): void {
    this.disposeState();
  }
}

export const sgdEntry: OptimizerEntry = {
  name: "sgd",
  doc: "SGD with momentum (torch.optim.SGD: L2 weight decay, dampening, Nesterov)",
  options: sgdOptions,
  build(groups, { lr, options }) {
    const o = options as OptionsOf<typeof sgdOptions>;
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0))
      return err(new Error(`optimizer "sgd": nesterov needs momentum > 0 and dampening 0, found momentum ${o.momentum}, dampening ${o.dampening}`));
    return ok(new SGD(groups, { lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov }));
  },
  // One f32 momentum buffer per element, none without momentum.
  stateBytes: (groups, options) => (Number(options.momentum ?? sgdOptions.momentum.default) === 0 ? 0 : 4 * totalNumel(groups)),
};

/** SGD for train() called from code: `train({ optimizer: sgd({ lr: 0.1, momentum: 0.9 }), ... })`. */
export function sgd(o: Omit<SGDOptions, "weightDecay">): OptimizerFactory {
  return codeFactory(sgdEntry, { ...o });
}
