// `optimizer = muon`: Muon (MomentUm Orthogonalised by Newton–Schulz), as LLaMA-Factory ships it (Moonlight's
// variant of Keller Jordan's). 2-D weights that are not embeddings or the head ("embed" / "lm_head" not in
// the name): SGD momentum (Nesterov by default), the update orthogonalised (newton-schulz.ts) and scaled by
// 0.2·√max(rows, cols) so its RMS matches AdamW's; decoupled decay p ← p(1 − lr·wd). Everything else
// (embeddings, head, norms, biases): the reference's AdamW, whose eps sits outside the bias correction.
import { err, ok, type Result } from "neverthrow";
import {
  exportSlots,
  type HostTensor,
  type OptimizerEntry,
  type OptimizerMeta,
  type OptionSchema,
  type OptionsOf,
  type ParamGroup,
  slotData,
  stateTensor,
  type Tensor,
} from "../../../core/index.ts";
import { adamwOptions } from "../adamw.ts";
import { checkBelowOne } from "../entry-helpers.ts";
import { FlatOptimizer } from "../flat-params.ts";
import { disposeMoments, loadMoments } from "../moments.ts";
import { zeroConflicts } from "../zero.ts";
import { orthogonalise } from "./newton-schulz.ts";

export { NS_COEFFICIENTS, orthogonalise } from "./newton-schulz.ts";

export const muonOptions = {
  momentum: { type: "number", min: 0, max: 1, default: 0.95, doc: "momentum of the orthogonalised weights' SGD; below 1" },
  nesterov: { type: "boolean", default: true, doc: "Nesterov momentum for the orthogonalised weights" },
  ns_steps: { type: "number", integer: true, min: 1, max: 20, default: 5, doc: "Newton–Schulz iterations per update" },
  ...adamwOptions,
} as const satisfies OptionSchema;

type MuonOptions = OptionsOf<typeof muonOptions>;

/** Weights Muon orthogonalises (the rest get AdamW): LLaMA-Factory's rule. */
export function usesMuon(name: string, p: { ndim: number }): boolean {
  return p.ndim === 2 && !name.includes("embed") && !name.includes("lm_head");
}

/** Muon's lr for a [rows, cols] weight: lr · 0.2 · √max(rows, cols) (Moonlight's RMS matching). */
export function muonLr(lr: number, shape: readonly number[]): number {
  return lr * 0.2 * Math.sqrt(Math.max(shape[0]!, shape[1]!));
}

interface ParamState {
  /** Momentum buffer (Muon weights) or first moment (AdamW ones). */
  m: Tensor;
  /** Second moment; null for Muon weights. */
  v: Tensor | null;
  step: number;
}

export class Muon extends FlatOptimizer {
  readonly kind = "muon";
  private state = new Map<Tensor, ParamState>();
  private readonly muon: boolean[];

  constructor(
    groups: readonly ParamGroup[],
    lr: number,
    readonly o: MuonOptions,
  ) {
    super(groups, lr);
    this.muon = this.params.map((p, i) => usesMuon(this.names[i]!, p));
  }

  update(): void {
    this.step++;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const lr = this.lr * this.lrScale[i]!;
      const wd = this.decay[i]!;
      let st = this.state.get(p);
      if (!st) {
        st = { m: stateTensor(p), v: this.muon[i] ? null : stateTensor(p), step: 0 };
        this.state.set(p, st);
      }
      st.step++;
      const be = p.backend;
      if (this.muon[i]) {
        // buf = μ·buf + g; u = g + μ·buf (Nesterov) or buf.
        be.scale(st.m, st.m, this.o.momentum);
        be.axpy(st.m, p.grad, 1);
        let u = st.m;
        if (this.o.nesterov) {
          u = stateTensor(p);
          be.copy(u, p.grad);
          be.axpy(u, st.m, this.o.momentum);
        }
        const x = orthogonalise(u, this.o.ns_steps);
        if (u !== st.m) u.dispose();
        be.scale(p, p, 1 - lr * wd);
        be.axpy(p, x, -muonLr(lr, p.shape));
        x.dispose();
        return;
      }
      // The reference's AdamW: p -= lr·√bc2/bc1 · m / (√v + eps); torch's fused rule with eps/√bc2 is exactly that.
      const bc2 = Math.sqrt(1 - this.o.beta2 ** st.step);
      const hyper = { lr, beta1: this.o.beta1, beta2: this.o.beta2, eps: this.o.eps / bc2, weightDecay: wd, step: st.step };
      be.adamwStep(p, p.grad, st.m, st.v!, hyper);
    });
  }

  exportState(): { meta: OptimizerMeta; tensors: Map<string, Tensor> } {
    const { params, tensors } = exportSlots(this.params, this.state, (st) =>
      st.v
        ? [
            ["exp_avg", st.m],
            ["exp_avg_sq", st.v],
          ]
        : [["momentum_buffer", st.m]],
    );
    const hyper = {
      momentum: this.o.momentum,
      nesterov: this.o.nesterov,
      ns_steps: this.o.ns_steps,
      beta1: this.o.beta1,
      beta2: this.o.beta2,
      eps: this.o.eps,
    };
    return { meta: this.stateMeta(params, hyper), tensors };
  }

  importState(raw: unknown, tensors: ReadonlyMap<string, HostTensor>): Result<void, Error> {
    const meta = this.checkState(raw);
    if (meta.isErr()) return err(meta.error);
    const loaded: [Tensor, Float32Array, Float32Array | null, number][] = [];
    for (const { index, step } of meta.value.params) {
      const p = this.params[index]!;
      const name = this.names[index]!;
      if (this.muon[index]) {
        const m = slotData(tensors, index, "momentum_buffer", p, name);
        if (m.isErr()) return err(m.error);
        loaded.push([p, m.value, null, step]);
      } else {
        const mv = loadMoments(tensors, index, p, name);
        if (mv.isErr()) return err(mv.error);
        loaded.push([p, mv.value.m, mv.value.v, step]);
      }
    }
    disposeMoments(this.state);
    for (const [p, m, v, step] of loaded) this.state.set(p, { m: stateTensor(p, m), v: v ? stateTensor(p, v) : null, step });
    this.step = meta.value.step;
    return ok(undefined);
  }

  dispose(): void {
    disposeMoments(this.state);
  }
}

export const muonEntry: OptimizerEntry = {
  conflicts: (use) => zeroConflicts("muon", use),
  name: "muon",
  doc: "Muon: Newton–Schulz orthogonalised momentum for 2-D hidden weights, AdamW for the rest",
  options: muonOptions,
  build(groups, { lr, options }) {
    const o = options as MuonOptions;
    return checkBelowOne("muon", o, ["beta1", "beta2", "momentum"]).map(() => new Muon(groups, lr, o));
  },
  // One f32 momentum buffer per Muon weight entry, two f32 moments per AdamW entry.
  stateBytes(groups) {
    let bytes = 0;
    for (const g of groups) for (const [i, p] of g.params.entries()) bytes += (usesMuon(g.names[i]!, p) ? 4 : 8) * p.numel;
    return bytes;
  },
};
