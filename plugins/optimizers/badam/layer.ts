// BAdam, mode = layer: block coordinate descent over decoder layers. Only the active block is
// trainable: every other parameter has requiresGrad off, so backward neither computes nor keeps its
// gradient. The active block steps with AdamW (torch's rule, the backend's fused kernel); its moments
// are created on the block's first step and released when the block switches, as BAdam resets the
// base optimizer's state on each switch. The active block follows from the step (blocks.ts), so a
// checkpoint holds only the active block's moments.
import { err, ok, type Result } from "neverthrow";
import { exportSlots, type HostTensor, type OptimizerMeta, type ParamGroup, stateTensor, type Tensor } from "../../../core/index.ts";
import { FlatOptimizer } from "../flat-params.ts";
import { disposeMoments, loadMoments, momentBytes } from "../moments.ts";
import { type BlockPartition, blockAt, type Schedule } from "./blocks.ts";

export interface AdamHyper {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

interface ParamState {
  m: Tensor;
  v: Tensor;
  step: number;
}

export class BlockAdam extends FlatOptimizer {
  readonly kind = "badam-layer";
  /** Index of the block that trains at the next update. */
  active = -1;
  private state = new Map<Tensor, ParamState>();

  constructor(
    groups: readonly ParamGroup[],
    lr: number,
    readonly hyper: AdamHyper,
    readonly partition: BlockPartition,
    readonly schedule: Schedule,
  ) {
    super(groups, lr);
    this.activate(blockAt(schedule, 1));
  }

  /** Makes block `b` the only trainable one; the previous block's moments are released. */
  private activate(b: number): void {
    if (b === this.active) return;
    disposeMoments(this.state);
    for (const p of this.params) p.requiresGrad = false;
    for (const i of this.partition.blocks[b]!) this.params[i]!.requiresGrad = true;
    this.active = b;
  }

  update(): void {
    this.step++;
    for (const i of this.partition.blocks[this.active]!) {
      const p = this.params[i]!;
      if (!p.grad) continue;
      let st = this.state.get(p);
      if (!st) {
        st = { m: stateTensor(p), v: stateTensor(p), step: 0 };
        this.state.set(p, st);
      }
      const h = { lr: this.lr * this.lrScale[i]!, ...this.hyper, weightDecay: this.decay[i]!, step: st.step + 1 };
      p.backend.adamwStep(p, p.grad, st.m, st.v, h);
      st.step++;
    }
    this.activate(blockAt(this.schedule, this.step + 1));
  }

  exportState(): { meta: OptimizerMeta; tensors: Map<string, Tensor> } {
    const { params, tensors } = exportSlots(this.params, this.state, (st) => [
      ["exp_avg", st.m],
      ["exp_avg_sq", st.v],
    ]);
    const meta = this.stateMeta(params, { ...this.hyper, activeBlock: this.active });
    return { meta, tensors };
  }

  importState(raw: unknown, tensors: ReadonlyMap<string, HostTensor>): Result<void, Error> {
    const meta = this.checkState(raw);
    if (meta.isErr()) return err(meta.error);
    const block = blockAt(this.schedule, meta.value.step + 1);
    const inBlock = new Set(this.partition.blocks[block]);
    const loaded: [Tensor, Float32Array, Float32Array, number][] = [];
    for (const { index, step } of meta.value.params) {
      if (!inBlock.has(index))
        return err(
          new Error(`optimizer state: parameter "${this.names[index]}" has BAdam state but is not in the active block ${block}; the block schedule changed`),
        );
      const p = this.params[index]!;
      const mv = loadMoments(tensors, index, p, this.names[index]!);
      if (mv.isErr()) return err(mv.error);
      loaded.push([p, mv.value.m, mv.value.v, step]);
    }
    this.active = -1;
    this.activate(block);
    for (const [p, m, v, step] of loaded) this.state.set(p, { m: stateTensor(p, m), v: stateTensor(p, v), step });
    this.step = meta.value.step;
    return ok(undefined);
  }

  /** Bytes of moments held now (the active block's only). */
  heldBytes(): number {
    return momentBytes(this.state);
  }

  /** Releases the moments and makes every parameter trainable again, as it was before. */
  dispose(): void {
    disposeMoments(this.state);
    for (const p of this.params) p.requiresGrad = true;
  }
}
