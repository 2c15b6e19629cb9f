// Float64 transcriptions of galore_torch's AdamW + GaLoreProjector and apollo_torch's AdamW (the
// update rules LLaMA-Factory runs), on number[][] matrices, written from the reference code's
// step() line by line. The projection matrices are the only input taken from outside: the SVD
// (core's float64 svdJacobi, tested on its own, while lft uses LAPACK's sgesdd in f32; signs fixed
// the same way) and APOLLO's seeded draw, rounded to f32 as lft stores them.
import { svdJacobi } from "../../../core/index.ts";
import { randomProjection } from "../../../plugins/optimizers/apollo/random-projection.ts";

export type Mat = number[][];

export const mat = (flat: ArrayLike<number>, m: number, n: number): Mat =>
  Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => flat[i * n + j]!));
export const flat = (a: Mat): number[] => a.flat();
const T = (a: Mat): Mat => a[0]!.map((_, j) => a.map((row) => row[j]!));
const mm = (a: Mat, b: Mat): Mat => a.map((row) => b[0]!.map((_, j) => row.reduce((s, x, k) => s + x * b[k]![j]!, 0)));
const map = (a: Mat, f: (x: number, i: number, j: number) => number): Mat => a.map((row, i) => row.map((x, j) => f(x, i, j)));
const fro = (a: Mat): number => Math.sqrt(a.flat().reduce((s, x) => s + x * x, 0));

/** U [m, k] and Vh [k, n] of the thin SVD, f32-rounded. */
function svd(g: Mat): { U: Mat; Vh: Mat } {
  const m = g.length;
  const n = g[0]!.length;
  const d = svdJacobi(Float64Array.from(g.flat()), m, n);
  const U = mat(d.u, m, d.k);
  const Vh = T(mat(d.v, n, d.k));
  // Singular vectors are defined up to sign: lft fixes each pair so u's largest entry is positive.
  for (let j = 0; j < d.k; j++) {
    const col = U.map((row) => row[j]!);
    const big = col.reduce((a, x) => (Math.abs(x) > Math.abs(a) ? x : a), 0);
    if (big >= 0) continue;
    for (const row of U) row[j] = -row[j]!;
    Vh[j] = Vh[j]!.map((x) => -x);
  }
  return { U: map(U, Math.fround), Vh: map(Vh, Math.fround) };
}

/** galore_torch GaLoreProjector.get_orthogonal_matrix. */
function orthogonal(g: Mat, rank: number, type: "left" | "right" | "full"): Mat | [Mat, Mat] {
  const { U, Vh } = svd(g);
  const A = U.map((row) => row.slice(0, rank));
  const B = Vh.slice(0, rank);
  return type === "right" ? B : type === "left" ? A : [A, B];
}

export interface RefHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  rank: number;
  gap: number;
}

/** One parameter under galore_torch's AdamW with a GaLoreProjector. */
export class RefGalore {
  ortho: Mat | [Mat, Mat] | null = null;
  expAvg: Mat | null = null;
  expAvgSq: Mat | null = null;
  step = 0;
  constructor(
    public p: Mat,
    readonly h: RefHyper,
    readonly projType: string,
    readonly scale: number,
  ) {}

  private project(g: Mat, iter: number): Mat {
    const refresh = this.ortho === null || iter % this.h.gap === 0;
    const [m, n] = [g.length, g[0]!.length];
    const get = (type: "left" | "right" | "full") => {
      if (refresh) this.ortho = orthogonal(g, this.h.rank, type);
      return this.ortho!;
    };
    const t = this.projType;
    if (t === "std") return m >= n ? mm(g, T(get("right") as Mat)) : mm(T(get("left") as Mat), g);
    if (t === "reverse_std") return m >= n ? mm(T(get("left") as Mat), g) : mm(g, T(get("right") as Mat));
    if (t === "right") return mm(g, T(get("right") as Mat));
    if (t === "left") return mm(T(get("left") as Mat), g);
    const [A, B] = get("full") as [Mat, Mat];
    return mm(mm(T(A), g), T(B));
  }

  private projectBack(low: Mat): Mat {
    const [a, b] = [low.length, low[0]!.length];
    const t = this.projType;
    let full: Mat;
    if (t === "std") full = a >= b ? mm(low, this.ortho as Mat) : mm(this.ortho as Mat, low);
    else if (t === "reverse_std") full = a <= b ? mm(this.ortho as Mat, low) : mm(low, this.ortho as Mat);
    else if (t === "right") full = mm(low, this.ortho as Mat);
    else if (t === "left") full = mm(this.ortho as Mat, low);
    else {
      const [A, B] = this.ortho as [Mat, Mat];
      full = mm(mm(A, low), B);
    }
    return map(full, (x) => x * this.scale);
  }

  update(grad: Mat): void {
    const g = this.project(grad, this.step);
    this.expAvg ??= map(g, () => 0);
    this.expAvgSq ??= map(g, () => 0);
    const { beta1, beta2, eps, lr, weightDecay } = this.h;
    this.step++;
    this.expAvg = map(this.expAvg, (x, i, j) => x * beta1 + (1 - beta1) * g[i]![j]!);
    this.expAvgSq = map(this.expAvgSq, (x, i, j) => x * beta2 + (1 - beta2) * g[i]![j]! ** 2);
    const stepSize = (lr * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    const norm = map(this.expAvg, (x, i, j) => x / (Math.sqrt(this.expAvgSq![i]![j]!) + eps));
    const upd = this.projectBack(norm);
    this.p = map(this.p, (x, i, j) => x - stepSize * upd[i]![j]!);
    if (weightDecay > 0) this.p = map(this.p, (x) => x - lr * weightDecay * x);
  }
}

/** One parameter under apollo_torch's AdamW with the random GradientProjector ("seed" = its 1-based position). */
export class RefApollo {
  ortho: Mat | null = null;
  expAvg: Mat | null = null;
  expAvgSq: Mat | null = null;
  scaledGrad: number | null = null;
  step = 0;
  constructor(
    public p: Mat,
    readonly h: RefHyper,
    readonly o: { projType: "std" | "left" | "right"; scale: number; scaleType: "channel" | "tensor"; scaleFront: boolean },
    public seed: number,
  ) {}

  private draw(m: number, n: number, type: "left" | "right"): Mat {
    const r = this.h.rank;
    const pr = randomProjection(new Float64Array(0), m, n, r, type, this.seed);
    this.seed++;
    return type === "right" ? map(mat(pr.right!, r, n), Math.fround) : map(mat(pr.left!, m, r), Math.fround);
  }

  private project(g: Mat, iter: number): Mat {
    const [m, n] = [g.length, g[0]!.length];
    const type = this.o.projType === "std" ? (m >= n ? "right" : "left") : this.o.projType;
    if (this.ortho === null || iter % this.h.gap === 0) this.ortho = this.draw(m, n, type);
    return type === "right" ? mm(g, T(this.ortho)) : mm(T(this.ortho), g);
  }

  update(pGrad: Mat): void {
    const grad = this.project(pGrad, this.step);
    this.expAvg ??= map(grad, () => 0);
    this.expAvgSq ??= map(grad, () => 0);
    const { beta1, beta2, eps, lr, weightDecay } = this.h;
    this.step++;
    this.expAvg = map(this.expAvg, (x, i, j) => x * beta1 + (1 - beta1) * grad[i]![j]!);
    this.expAvgSq = map(this.expAvgSq, (x, i, j) => x * beta2 + (1 - beta2) * grad[i]![j]! ** 2);
    const stepSize = (lr * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    const normGrad = map(this.expAvg, (x, i, j) => x / (Math.sqrt(this.expAvgSq![i]![j]!) + eps));
    let scaled: Mat;
    if (this.o.scaleType === "channel") {
      const normDim = normGrad.length < normGrad[0]!.length ? 0 : 1;
      if (normDim === 0) {
        const f = normGrad[0]!.map((_, j) => Math.hypot(...normGrad.map((row) => row[j]!)) / (Math.hypot(...grad.map((row) => row[j]!)) + 1e-8));
        scaled = map(pGrad, (x, _i, j) => x * f[j]!);
      } else {
        const f = normGrad.map((row, i) => Math.hypot(...row) / (Math.hypot(...grad[i]!) + 1e-8));
        scaled = map(pGrad, (x, i) => x * f[i]!);
      }
    } else {
      const f = fro(normGrad) / (fro(grad) + 1e-8);
      scaled = map(pGrad, (x) => x * f);
    }
    const root = Math.sqrt(this.o.scale);
    if (this.o.scaleFront) scaled = map(scaled, (x) => x * root);
    if (this.scaledGrad !== null) {
      const size = fro(scaled);
      const limiter = Math.max(size / (this.scaledGrad + 1e-8), 1.01) / 1.01;
      scaled = map(scaled, (x) => x / limiter);
      this.scaledGrad = size / limiter;
    } else this.scaledGrad = fro(scaled);
    if (!this.o.scaleFront) scaled = map(scaled, (x) => x * root);
    this.p = map(this.p, (x, i, j) => x - stepSize * scaled[i]![j]!);
    if (weightDecay > 0) this.p = map(this.p, (x) => x - lr * weightDecay * x);
  }
}
