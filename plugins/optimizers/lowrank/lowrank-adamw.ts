// The optimizer GaLore and APOLLO share (as galore_torch's and apollo_torch's AdamW): for a targeted
// 2-D weight W [m, n] with gradient G, every `updateInterval` of its own steps (from its first) the
// projection is recomputed from G; then, with t its step count,
//   R = project(G);  M = β1·M + (1-β1)·R;  V = β2·V + (1-β2)·R²   (moments in the low-rank space)
//   N = M / (√V + ε);  W -= lr·√(1-β2^t)/(1-β1^t) · direction(G, R, N);  W *= 1 - lr·wd
// where the variant (GaLore, APOLLO) chooses the projection and the direction. Moments are not reset
// when the projection changes, as in the reference code. Other parameters get plain AdamW (the fused
// kernel). The low-rank math runs on the host in float64; state lives on the device in f32.
//
// Layer-wise mode steps each parameter from a gradient-ready hook during backward and frees its
// gradient there, so the whole model's gradients never exist at once (no accumulation, no clipping).
import { err, ok, type Result } from "neverthrow";
import { exportSlots, type HostTensor, type OptimizerMeta, onGradReady, type ParamGroup, stateTensor, Tensor } from "../../../core/index.ts";
import { FlatOptimizer } from "../flat-params.ts";
import { lowShape, type Projection, packProjection, project, projectionNumel, type Side, unpackProjection } from "./projection.ts";
import { isTarget, parseTargets } from "./targets.ts";

/** What a target's direction sees: the gradient, its projection, the normalised low-rank update. */
export interface DirectionInput {
  readonly grad: Float64Array;
  readonly low: Float64Array;
  readonly norm: Float64Array;
  readonly m: number;
  readonly n: number;
  readonly projection: Projection;
  readonly state: TargetState;
}

/** What distinguishes GaLore from APOLLO. */
export interface LowRankVariant {
  readonly kind: string;
  /** Which side an [m, n] matrix is projected from. */
  side(m: number, n: number): Side;
  /** A fresh projection for gradient `grad` [m, n]; `seed` differs per parameter and per refresh. */
  projection(grad: Float64Array, m: number, n: number, r: number, side: Side, seed: number): Projection;
  /** The full-rank update direction (the step size is applied by the caller). */
  direction(x: DirectionInput): Float64Array;
}

export interface LowRankSettings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  rank: number;
  updateInterval: number;
  /** "all" or comma-separated module-name fragments. */
  target: string;
  layerwise: boolean;
}

export interface TargetState {
  m: Tensor;
  v: Tensor;
  /** The projection matrices, packed (left then right). */
  proj: Tensor;
  step: number;
  readonly side: Side;
  readonly r: number;
  /** Projections drawn so far (APOLLO's seed advances with it). */
  refreshes: number;
  /** APOLLO's norm-growth limiter: the previous update's norm (null before the first). */
  limiter: number | null;
}

interface PlainState {
  m: Tensor;
  v: Tensor;
  step: number;
}

const f64 = (t: Tensor): Float64Array => Float64Array.from(t.backend.download(t) as Float32Array);

/** Bytes of state for `groups`: low-rank moments and projections for targets, two moments otherwise. */
export function lowRankStateBytes(groups: readonly ParamGroup[], variant: Pick<LowRankVariant, "side">, rank: number, target: string): number {
  const targets = parseTargets(target);
  let bytes = 0;
  for (const g of groups) {
    g.params.forEach((p, i) => {
      if (!isTarget(g.names[i]!, p.shape, targets)) {
        bytes += 8 * p.numel;
        return;
      }
      const [m, n] = p.shape as [number, number];
      const r = Math.min(rank, m, n);
      const side = variant.side(m, n);
      const [a, b] = lowShape(side, m, n, r);
      bytes += 8 * a * b + 4 * projectionNumel(side, m, n, r);
    });
  }
  return bytes;
}

export class LowRankAdamW extends FlatOptimizer {
  readonly kind: string;
  get stepsDuringBackward(): boolean {
    return this.o.layerwise === true;
  }
  private readonly targets = new Set<Tensor>();
  private readonly groupOf = new Map<Tensor, ParamGroup>();
  private readonly indexOf = new Map<Tensor, number>();
  private readonly lowState = new Map<Tensor, TargetState>();
  private readonly plainState = new Map<Tensor, PlainState>();
  private readonly unhooks: (() => void)[] = [];

  constructor(
    groups: readonly ParamGroup[],
    readonly o: LowRankSettings,
    readonly variant: LowRankVariant,
  ) {
    super(groups, o.lr);
    this.kind = variant.kind;
    const targets = parseTargets(o.target);
    for (const g of groups) {
      g.params.forEach((p, i) => {
        this.groupOf.set(p, g);
        this.indexOf.set(p, this.indexOf.size);
        if (isTarget(g.names[i]!, p.shape, targets)) this.targets.add(p);
      });
    }
    if (o.layerwise) {
      for (const p of this.params) {
        this.unhooks.push(
          onGradReady(p, () => {
            this.stepParam(p);
            p.grad?.dispose();
            p.grad = null;
          }),
        );
      }
    }
  }

  /** How many parameters are projected (the rest get plain AdamW). */
  get targetCount(): number {
    return this.targets.size;
  }

  update(): void {
    this.step++;
    for (const p of this.params) if (p.grad) this.stepParam(p);
  }

  private stepParam(p: Tensor): void {
    const g = this.groupOf.get(p)!;
    const lr = this.lr * g.lrScale;
    if (!this.targets.has(p)) {
      const st = this.plainState.get(p) ?? { m: stateTensor(p), v: stateTensor(p), step: 0 };
      this.plainState.set(p, st);
      const hyper = { lr, beta1: this.o.beta1, beta2: this.o.beta2, eps: this.o.eps, weightDecay: g.weightDecay, step: st.step + 1 };
      p.backend.adamwStep(p, p.grad!, st.m, st.v, hyper);
      st.step++;
      return;
    }
    this.stepTarget(p, lr, g.weightDecay);
  }

  private stepTarget(p: Tensor, lr: number, weightDecay: number): void {
    const [m, n] = p.shape as [number, number];
    const grad = f64(p.grad!);
    let st = this.lowState.get(p);
    if (!st) {
      const r = Math.min(this.o.rank, m, n);
      const side = this.variant.side(m, n);
      const shape = lowShape(side, m, n, r);
      st = {
        m: stateTensor(p, undefined, shape),
        v: stateTensor(p, undefined, shape),
        proj: stateTensor(p, undefined, [projectionNumel(side, m, n, r)]),
        step: 0,
        side,
        r,
        refreshes: 0,
        limiter: null,
      };
      this.lowState.set(p, st);
    }
    let projection: Projection;
    if (st.step % this.o.updateInterval === 0) {
      // The seed follows apollo_torch: the parameter's 1-based position, advanced at each refresh.
      const seed = this.indexOf.get(p)! + 1 + st.refreshes;
      const packed = packProjection(this.variant.projection(grad, m, n, st.r, st.side, seed));
      p.backend.upload(st.proj, packed);
      projection = unpackProjection(st.side, m, st.r, packed);
      st.refreshes++;
    } else {
      projection = unpackProjection(st.side, m, st.r, p.backend.download(st.proj) as Float32Array);
    }
    const low = project(grad, m, n, projection);
    const M = f64(st.m);
    const V = f64(st.v);
    const { beta1, beta2, eps } = this.o;
    const norm = new Float64Array(low.length);
    for (let i = 0; i < low.length; i++) {
      const x = low[i]!;
      M[i] = beta1 * M[i]! + (1 - beta1) * x;
      V[i] = beta2 * V[i]! + (1 - beta2) * x * x;
      norm[i] = M[i]! / (Math.sqrt(V[i]!) + eps);
    }
    p.backend.upload(st.m, Float32Array.from(M));
    p.backend.upload(st.v, Float32Array.from(V));
    st.step++;
    const stepSize = (lr * Math.sqrt(1 - beta2 ** st.step)) / (1 - beta1 ** st.step);
    const dir = this.variant.direction({ grad, low, norm, m, n, projection, state: st });
    const delta = Tensor.alloc(p.backend, p.shape, "f32", false);
    try {
      p.backend.upload(delta, Float32Array.from(dir));
      p.backend.axpy(p, delta, -stepSize);
    } finally {
      delta.dispose();
    }
    if (weightDecay > 0) p.backend.scale(p, p, 1 - lr * weightDecay);
  }

  exportState(): { meta: OptimizerMeta; tensors: Map<string, Tensor> } {
    const low = exportSlots(this.params, this.lowState, (st) => [
      ["exp_avg", st.m],
      ["exp_avg_sq", st.v],
      ["projection", st.proj],
    ]);
    const plain = exportSlots(this.params, this.plainState, (st) => [
      ["exp_avg", st.m],
      ["exp_avg_sq", st.v],
    ]);
    const hyper: Record<string, number | boolean> = { beta1: this.o.beta1, beta2: this.o.beta2, eps: this.o.eps, rank: this.o.rank };
    for (const [p, st] of this.lowState) {
      const i = this.indexOf.get(p)!;
      hyper[`${i}.refreshes`] = st.refreshes;
      if (st.limiter !== null) hyper[`${i}.limiter`] = st.limiter;
    }
    const params = [...low.params, ...plain.params].sort((a, b) => a.index - b.index);
    return { meta: this.stateMeta(params, hyper), tensors: new Map([...low.tensors, ...plain.tensors]) };
  }

  importState(raw: unknown, tensors: ReadonlyMap<string, HostTensor>): Result<void, Error> {
    const meta = this.checkState(raw);
    if (meta.isErr()) return err(meta.error);
    const hyper = meta.value.hyper;
    if (hyper.rank !== this.o.rank) return err(new Error(`optimizer state was saved with rank ${String(hyper.rank)} but this run uses rank ${this.o.rank}`));
    const slot = (i: number, name: string, numel: number): Result<Float32Array, Error> => {
      const t = tensors.get(`${i}.${name}`);
      if (!t) return err(new Error(`optimizer state: missing tensor "${i}.${name}" (${name} of parameter "${this.names[i]}")`));
      if (t.data.length !== numel)
        return err(new Error(`optimizer state: "${i}.${name}" has ${t.data.length} values, parameter "${this.names[i]}" needs ${numel}`));
      return ok(t.data);
    };
    const loaded: (() => void)[] = [];
    for (const { index, step } of meta.value.params) {
      const p = this.params[index]!;
      if (!this.targets.has(p)) {
        const m = slot(index, "exp_avg", p.numel);
        const v = slot(index, "exp_avg_sq", p.numel);
        if (m.isErr()) return err(m.error);
        if (v.isErr()) return err(v.error);
        loaded.push(() => this.plainState.set(p, { m: stateTensor(p, m.value), v: stateTensor(p, v.value), step }));
        continue;
      }
      const [rows, cols] = p.shape as [number, number];
      const r = Math.min(this.o.rank, rows, cols);
      const side = this.variant.side(rows, cols);
      const shape = lowShape(side, rows, cols, r);
      const m = slot(index, "exp_avg", shape[0] * shape[1]);
      const v = slot(index, "exp_avg_sq", shape[0] * shape[1]);
      const pr = slot(index, "projection", projectionNumel(side, rows, cols, r));
      if (m.isErr()) return err(m.error);
      if (v.isErr()) return err(v.error);
      if (pr.isErr()) return err(pr.error);
      const refreshes = Number(hyper[`${index}.refreshes`] ?? 0);
      const limiter = hyper[`${index}.limiter`];
      loaded.push(() =>
        this.lowState.set(p, {
          m: stateTensor(p, m.value, shape),
          v: stateTensor(p, v.value, shape),
          proj: stateTensor(p, pr.value, [pr.value.length]),
          step,
          side,
          r,
          refreshes,
          limiter: typeof limiter === "number" ? limiter : null,
        }),
      );
    }
    this.disposeState();
    for (const load of loaded) load();
    this.step = meta.value.step;
    return ok(undefined);
  }

  private disposeState(): void {
    for (const st of this.lowState.values()) for (const t of [st.m, st.v, st.proj]) t.dispose();
    for (const st of this.plainState.values()) for (const t of [st.m, st.v]) t.dispose();
    this.lowState.clear();
    this.plainState.clear();
  }

  dispose(): void {
    for (const unhook of this.unhooks.splice(0)) unhook();
    this.disposeState();
  }
}
