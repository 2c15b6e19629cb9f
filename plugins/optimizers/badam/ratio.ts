// BAdam, mode = ratio: each parameter updates only a random `update_ratio` share of its entries (a
// contiguous run for mask_mode = adjacent, scattered entries for scatter), with Adam moments stored
// sparsely, one value per selected entry, as BAdam's BlockOptimizerRatio keeps them. The masks are
// drawn again every `switch_interval` steps (their moments start over); each mask is a pure function of
// (parameter, round), so a checkpoint holds only the sparse moments. Embeddings stay frozen (BAdam's
// include_embedding = False). The update runs on the host over the selected entries only.
import { err, ok, type Result } from "neverthrow";
import { exportSlots, type HostTensor, type OptimizerMeta, type ParamGroup, stateTensor, type Tensor } from "../../../core/index.ts";
import { FlatOptimizer } from "../flat-params.ts";
import { disposeMoments, momentBytes, releaseMoments } from "../moments.ts";
import { permutation, randomInt } from "./blocks.ts";
import type { AdamHyper } from "./layer.ts";

export type MaskMode = "adjacent" | "scatter";

interface SparseState {
  /** Selected entries, ascending. */
  idx: Int32Array;
  m: Tensor;
  v: Tensor;
  step: number;
}

/** Selected entry count of a parameter of `numel` entries (at least one). */
export function maskSize(numel: number, ratio: number): number {
  return Math.max(1, Math.min(numel, Math.floor(numel * ratio)));
}

/** The entries parameter `index` updates in mask round `round`. */
export function maskOf(numel: number, ratio: number, mode: MaskMode, index: number, round: number, seed: number): Int32Array {
  const k = maskSize(numel, ratio);
  const s = (seed * 1_000_003 + index * 7919 + round * 104_729) >>> 0;
  if (mode === "adjacent") {
    const start = randomInt(numel - k + 1, s);
    return Int32Array.from({ length: k }, (_, i) => start + i);
  }
  return Int32Array.from(permutation(numel, s).slice(0, k)).sort();
}

const EMBED = /embed/;

export class RatioAdam extends FlatOptimizer {
  readonly kind = "badam-ratio";
  private state = new Map<number, SparseState>();
  /** Indices of the parameters that train (all but embeddings). */
  readonly trained: readonly number[];

  constructor(
    groups: readonly ParamGroup[],
    lr: number,
    readonly hyper: AdamHyper,
    readonly ratio: number,
    readonly maskMode: MaskMode,
    readonly interval: number,
    readonly seed: number,
  ) {
    super(groups, lr);
    this.trained = this.names.flatMap((n, i) => (EMBED.test(n) ? [] : [i]));
    const set = new Set(this.trained);
    this.params.forEach((p, i) => {
      p.requiresGrad = set.has(i);
    });
  }

  private roundOf(step: number): number {
    return this.interval > 0 ? Math.floor((step - 1) / this.interval) : 0;
  }

  private fresh(i: number, round: number): SparseState {
    const p = this.params[i]!;
    const idx = maskOf(p.numel, this.ratio, this.maskMode, i, round, this.seed);
    return { idx, m: stateTensor(p, undefined, [idx.length]), v: stateTensor(p, undefined, [idx.length]), step: 0 };
  }

  update(): void {
    this.step++;
    const round = this.roundOf(this.step);
    if (this.step > 1 && round !== this.roundOf(this.step - 1)) disposeMoments(this.state);
    const { beta1, beta2, eps } = this.hyper;
    for (const i of this.trained) {
      const p = this.params[i]!;
      if (!p.grad) continue;
      let st = this.state.get(i);
      if (!st) {
        st = this.fresh(i, round);
        this.state.set(i, st);
      }
      const g = p.backend.download(p.grad) as Float32Array;
      const w = p.backend.download(p) as Float32Array;
      const m = p.backend.download(st.m) as Float32Array;
      const v = p.backend.download(st.v) as Float32Array;
      st.step++;
      const lr = this.lr * this.lrScale[i]!;
      const bc1 = 1 - beta1 ** st.step;
      const bc2 = Math.sqrt(1 - beta2 ** st.step);
      const keep = 1 - lr * this.decay[i]!;
      for (let j = 0; j < st.idx.length; j++) {
        const e = st.idx[j]!;
        const gj = g[e]!;
        m[j] = beta1 * m[j]! + (1 - beta1) * gj;
        v[j] = beta2 * v[j]! + (1 - beta2) * gj * gj;
        w[e] = w[e]! * keep - ((lr / bc1) * m[j]!) / (Math.sqrt(v[j]!) / bc2 + eps);
      }
      p.backend.upload(p, w);
      p.backend.upload(st.m, m);
      p.backend.upload(st.v, v);
    }
  }

  exportState(): { meta: OptimizerMeta; tensors: Map<string, Tensor> } {
    const byParam = new Map([...this.state].map(([i, st]) => [this.params[i]!, st]));
    const { params, tensors } = exportSlots(this.params, byParam, (st) => [
      ["exp_avg", st.m],
      ["exp_avg_sq", st.v],
    ]);
    const hyper = { ...this.hyper, update_ratio: this.ratio, scatter: this.maskMode === "scatter", switch_interval: this.interval };
    return { meta: this.stateMeta(params, hyper), tensors };
  }

  importState(raw: unknown, tensors: ReadonlyMap<string, HostTensor>): Result<void, Error> {
    const meta = this.checkState(raw);
    if (meta.isErr()) return err(meta.error);
    const round = this.roundOf(Math.max(1, meta.value.step));
    const loaded: [number, SparseState, Float32Array, Float32Array][] = [];
    for (const { index, step } of meta.value.params) {
      const st = this.fresh(index, round);
      const slots: Float32Array[] = [];
      for (const slot of ["exp_avg", "exp_avg_sq"]) {
        const t = tensors.get(`${index}.${slot}`);
        if (!t || t.data.length !== st.idx.length) {
          releaseMoments([st, ...loaded.map(([, s]) => s)]);
          return err(
            new Error(
              `optimizer state: "${index}.${slot}" of "${this.names[index]}" should hold ${st.idx.length} values (its mask), found ${t ? t.data.length : "none"}`,
            ),
          );
        }
        slots.push(t.data);
      }
      st.step = step;
      loaded.push([index, st, slots[0]!, slots[1]!]);
    }
    disposeMoments(this.state);
    for (const [i, st, m, v] of loaded) {
      st.m.backend.upload(st.m, m);
      st.v.backend.upload(st.v, v);
      this.state.set(i, st);
    }
    this.step = meta.value.step;
    return ok(undefined);
  }

  heldBytes(): number {
    return momentBytes(this.state);
  }

  dispose(): void {
    disposeMoments(this.state);
    for (const p of this.params) p.requiresGrad = true;
  }
}
