// `optimizer = adam_mini`: Adam-mini. Adam's first moment per entry, but one second moment per block
// (blocks.ts), the mean of the block's squared gradients, so the state is about half of AdamW's. The
// update is AdamW's with v replaced by its block's value: p ← p(1 − lr·wd) − lr/bc1 · m / (√(v_b/bc2) + eps).
// q/k blocks are attention heads, so the optimizer needs the model's head size (the runner passes the
// model; code passes `headDim`). The update runs on the host, block by block.
import { err, ok, type Result } from "neverthrow";
import {
  exportSlots,
  type HostTensor,
  type ModelSpec,
  type OptimizerEntry,
  type OptimizerMeta,
  type OptionsOf,
  type ParamGroup,
  slotData,
  stateTensor,
  type Tensor,
} from "../../../core/index.ts";
import { adamwOptions } from "../adamw.ts";
import { checkBelowOne } from "../entry-helpers.ts";
import { FlatOptimizer } from "../flat-params.ts";
import { disposeMoments } from "../moments.ts";
import { zeroConflicts } from "../zero.ts";
import { type BlockKind, blockKind, blockSize } from "./blocks.ts";

export { type BlockKind, blockKind, blockSize } from "./blocks.ts";

export const adamMiniOptions = adamwOptions;
type AdamMiniOptions = OptionsOf<typeof adamMiniOptions>;

interface ParamState {
  m: Tensor;
  /** One second moment per block. */
  v: Tensor;
  step: number;
}

/** Head size from a model spec: config.head_dim, else hidden size / attention heads. */
export function headDimOf(model: ModelSpec | undefined): number | null {
  if (!model) return null;
  const c = model.config;
  if (typeof c.head_dim === "number" && c.head_dim > 0) return c.head_dim;
  const heads = c.num_attention_heads;
  return typeof heads === "number" && heads > 0 ? model.hiddenSize / heads : null;
}

export class AdamMini extends FlatOptimizer {
  readonly kind = "adam_mini";
  /** Entries per second-moment block, per parameter. */
  readonly blockSizes: readonly number[];
  readonly kinds: readonly BlockKind[];
  private state = new Map<Tensor, ParamState>();

  constructor(
    groups: readonly ParamGroup[],
    lr: number,
    readonly o: AdamMiniOptions,
    headDim: number | null,
  ) {
    super(groups, lr);
    this.kinds = this.params.map((p, i) => blockKind(this.names[i]!, p.ndim));
    this.blockSizes = this.params.map((p, i) => blockSize(this.kinds[i]!, p.shape, headDim));
  }

  update(): void {
    this.step++;
    const { beta1, beta2, eps } = this.o;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const size = this.blockSizes[i]!;
      let st = this.state.get(p);
      if (!st) {
        st = { m: stateTensor(p), v: stateTensor(p, undefined, [p.numel / size]), step: 0 };
        this.state.set(p, st);
      }
      st.step++;
      const be = p.backend;
      const g = be.download(p.grad) as Float32Array;
      const w = be.download(p) as Float32Array;
      const m = be.download(st.m) as Float32Array;
      const v = be.download(st.v) as Float32Array;
      const lr = this.lr * this.lrScale[i]!;
      const keep = 1 - lr * this.decay[i]!;
      const stepSize = lr / (1 - beta1 ** st.step);
      const bc2 = Math.sqrt(1 - beta2 ** st.step);
      for (let b = 0; b < v.length; b++) {
        const lo = b * size;
        let sq = 0;
        for (let e = lo; e < lo + size; e++) sq += g[e]! * g[e]!;
        v[b] = beta2 * v[b]! + (1 - beta2) * (sq / size);
        const h = Math.sqrt(v[b]!) / bc2 + eps;
        for (let e = lo; e < lo + size; e++) {
          m[e] = beta1 * m[e]! + (1 - beta1) * g[e]!;
          w[e] = w[e]! * keep - (stepSize * m[e]!) / h;
        }
      }
      be.upload(p, w);
      be.upload(st.m, m);
      be.upload(st.v, v);
    });
  }

  exportState(): { meta: OptimizerMeta; tensors: Map<string, Tensor> } {
    const { params, tensors } = exportSlots(this.params, this.state, (st) => [
      ["exp_avg", st.m],
      ["vmean", st.v],
    ]);
    const hyper = { beta1: this.o.beta1, beta2: this.o.beta2, eps: this.o.eps };
    return { meta: this.stateMeta(params, hyper), tensors };
  }

  importState(raw: unknown, tensors: ReadonlyMap<string, HostTensor>): Result<void, Error> {
    const meta = this.checkState(raw);
    if (meta.isErr()) return err(meta.error);
    const loaded: [Tensor, Float32Array, Float32Array, number][] = [];
    for (const { index, step } of meta.value.params) {
      const p = this.params[index]!;
      const m = slotData(tensors, index, "exp_avg", p, this.names[index]!);
      if (m.isErr()) return err(m.error);
      const blocks = p.numel / this.blockSizes[index]!;
      const v = tensors.get(`${index}.vmean`);
      if (!v || v.data.length !== blocks)
        return err(
          new Error(`optimizer state: "${index}.vmean" of "${this.names[index]}" should hold ${blocks} block values, found ${v ? v.data.length : "none"}`),
        );
      loaded.push([p, m.value, v.data, step]);
    }
    disposeMoments(this.state);
    for (const [p, m, v, step] of loaded) this.state.set(p, { m: stateTensor(p, m), v: stateTensor(p, v, [v.length]), step });
    this.step = meta.value.step;
    return ok(undefined);
  }

  dispose(): void {
    disposeMoments(this.state);
  }
}

function needsHeads(groups: readonly ParamGroup[]): string | undefined {
  for (const g of groups) for (const [i, p] of g.params.entries()) if (blockKind(g.names[i]!, p.ndim) === "head") return g.names[i];
  return undefined;
}

/** Builds Adam-mini from code; `headDim` is required when q/k weights are trained. */
export function buildAdamMini(groups: readonly ParamGroup[], lr: number, o: AdamMiniOptions, headDim: number | null): Result<AdamMini, Error> {
  const betas = checkBelowOne("adam_mini", o, ["beta1", "beta2"]);
  if (betas.isErr()) return err(betas.error);
  const qk = needsHeads(groups);
  if (qk !== undefined && headDim === null)
    return err(
      new Error(`optimizer "adam_mini": "${qk}" is split per attention head, but the head size is unknown (no model config with num_attention_heads)`),
    );
  for (const g of groups)
    for (const [i, p] of g.params.entries()) {
      const size = blockSize(blockKind(g.names[i]!, p.ndim), p.shape, headDim);
      if (!Number.isInteger(size) || size <= 0 || p.numel % size !== 0)
        return err(new Error(`optimizer "adam_mini": "${g.names[i]}" [${p.shape.join(", ")}] does not split into blocks of ${size} (head size ${headDim})`));
    }
  return ok(new AdamMini(groups, lr, o, headDim));
}

export const adamMiniEntry: OptimizerEntry = {
  conflicts: (use) => zeroConflicts("adam_mini", use),
  name: "adam_mini",
  doc: "Adam-mini: Adam with one second moment per block (attention head, neuron, or tensor)",
  options: adamMiniOptions,
  build(groups, { lr, options, model }) {
    return buildAdamMini(groups, lr, options as AdamMiniOptions, headDimOf(model));
  },
  // One f32 first moment per entry and one f32 second moment per block. Without the model (no head
  // size) q/k blocks are counted per row: an upper bound.
  stateBytes(groups, _options, model) {
    const headDim = headDimOf(model);
    let bytes = 0;
    for (const g of groups)
      for (const [i, p] of g.params.entries()) {
        let kind = blockKind(g.names[i]!, p.ndim);
        if (kind === "head" && headDim === null) kind = "row";
        bytes += 4 * p.numel + 4 * (p.numel / blockSize(kind, p.shape, headDim));
      }
    return bytes;
  },
};
