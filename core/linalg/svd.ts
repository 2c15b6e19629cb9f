// A small float64 SVD (PiSSA initialisation, GaLore projections): one-sided Jacobi (Hestenes) for the exact thin SVD,
// and randomized subspace iteration (Halko et al., as torch.svd_lowrank) when only the top r triplets
// of a large matrix are needed. Matrices are row-major Float64Arrays; these are init-time costs, so
// clarity wins over speed.
import { Philox } from "../random/philox.ts";

/** a = u · diag(s) · vᵀ with u [m, k], v [n, k] (row-major), s descending, k = min(m, n) or the rank asked for. */
export interface SVD {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly u: Float64Array;
  readonly s: Float64Array;
  readonly v: Float64Array;
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j]!;
  return t;
}

/** Exact thin SVD by one-sided Jacobi: rotate column pairs until every pair is orthogonal. */
export function svdJacobi(a: Float64Array, m: number, n: number, maxSweeps = 100): SVD {
  if (a.length !== m * n) throw new RangeError(`svd: ${a.length} values do not fill [${m}, ${n}]`);
  if (n > m) {
    const t = svdJacobi(transpose(a, m, n), n, m, maxSweeps);
    return { m, n, k: t.k, u: t.v, s: t.s, v: t.u };
  }
  const cols = Array.from({ length: n }, (_, j) => Float64Array.from({ length: m }, (_, i) => a[i * n + j]!));
  const vcols = Array.from({ length: n }, (_, j) => {
    const e = new Float64Array(n);
    e[j] = 1;
    return e;
  });
  const eps = 1e-15;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const cp = cols[p]!;
        const cq = cols[q]!;
        const alpha = dot(cp, cp);
        const beta = dot(cq, cq);
        const gamma = dot(cp, cq);
        if (alpha === 0 || beta === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (const [x, y] of [
          [cp, cq],
          [vcols[p]!, vcols[q]!],
        ] as const) {
          for (let i = 0; i < x.length; i++) {
            const xi = x[i]!;
            const yi = y[i]!;
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
          }
        }
      }
    }
    if (!rotated) break;
  }
  const norms = cols.map((c) => Math.sqrt(dot(c, c)));
  const order = norms.map((_, j) => j).sort((x, y) => norms[y]! - norms[x]! || x - y);
  const k = n;
  const u = new Float64Array(m * k);
  const v = new Float64Array(n * k);
  const s = new Float64Array(k);
  order.forEach((j, r) => {
    const sj = norms[j]!;
    s[r] = sj;
    const c = cols[j]!;
    // A zero singular value leaves its left vector zero: the product u·s·vᵀ is unaffected.
    if (sj > 0) for (let i = 0; i < m; i++) u[i * k + r] = c[i]! / sj;
    const vc = vcols[j]!;
    for (let i = 0; i < n; i++) v[i * k + r] = vc[i]!;
  });
  return { m, n, k, u, s, v };
}

/** The first r triplets of an SVD. */
export function truncateSvd(d: SVD, r: number): SVD {
  const k = Math.min(r, d.k);
  const pick = (x: Float64Array, rows: number) => {
    const out = new Float64Array(rows * k);
    for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) out[i * k + j] = x[i * d.k + j]!;
    return out;
  };
  return { m: d.m, n: d.n, k, u: pick(d.u, d.m), s: d.s.slice(0, k), v: pick(d.v, d.n) };
}

/** y_j = a · x_j for column vectors x_j of length n. */
function mulCols(a: Float64Array, m: number, n: number, xs: readonly Float64Array[]): Float64Array[] {
  const ys = xs.map(() => new Float64Array(m));
  for (let i = 0; i < m; i++) {
    const row = a.subarray(i * n, (i + 1) * n);
    xs.forEach((x, j) => {
      ys[j]![i] = dot(row, x);
    });
  }
  return ys;
}

/** z_j = aᵀ · q_j for column vectors q_j of length m. */
function mulTCols(a: Float64Array, m: number, n: number, qs: readonly Float64Array[]): Float64Array[] {
  const zs = qs.map(() => new Float64Array(n));
  for (let i = 0; i < m; i++) {
    const row = a.subarray(i * n, (i + 1) * n);
    qs.forEach((q, j) => {
      const qi = q[i]!;
      if (qi === 0) return;
      const z = zs[j]!;
      for (let l = 0; l < n; l++) z[l] = z[l]! + row[l]! * qi;
    });
  }
  return zs;
}

/** Orthonormalises columns in place (modified Gram-Schmidt, twice for stability). */
function orthonormalise(cols: Float64Array[]): Float64Array[] {
  cols.forEach((c, j) => {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        const cp = cols[p]!;
        const d = dot(c, cp);
        for (let i = 0; i < c.length; i++) c[i] = c[i]! - d * cp[i]!;
      }
    }
    const norm = Math.sqrt(dot(c, c));
    if (norm > 1e-300) for (let i = 0; i < c.length; i++) c[i] = c[i]! / norm;
    else c.fill(0);
  });
  return cols;
}

export interface TopSvdOptions {
  /** Subspace iterations; negative: the exact SVD (Jacobi on the whole matrix). */
  readonly niter: number;
  /** Extra directions carried along for accuracy (default 8). */
  readonly oversample?: number;
  readonly seed?: bigint;
}

/** The top r singular triplets: exact when asked or when the matrix is no wider than r + oversample. */
export function svdTop(a: Float64Array, m: number, n: number, r: number, o: TopSvdOptions): SVD {
  const k = Math.min(r + (o.oversample ?? 8), m, n);
  if (o.niter < 0 || k >= Math.min(m, n)) return truncateSvd(svdJacobi(a, m, n), r);
  const rng = new Philox(o.seed ?? 0n);
  const gauss = () => {
    const u1 = rng.nextDouble() || Number.MIN_VALUE;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.nextDouble());
  };
  const omega = Array.from({ length: k }, () => Float64Array.from({ length: n }, gauss));
  let q = orthonormalise(mulCols(a, m, n, omega));
  for (let it = 0; it < o.niter; it++) {
    const z = orthonormalise(mulTCols(a, m, n, q));
    q = orthonormalise(mulCols(a, m, n, z));
  }
  // a ≈ q (qᵀ a); the small [k, n] factor has an exact SVD.
  const small = new Float64Array(k * n);
  for (const [j, row] of mulTCols(a, m, n, q).entries()) small.set(row, j * n);
  const d = svdJacobi(small, k, n);
  const u = new Float64Array(m * d.k);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < d.k; c++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += q[j]![i]! * d.u[j * d.k + c]!;
      u[i * d.k + c] = s;
    }
  }
  return truncateSvd({ m, n, k: d.k, u, s: d.s, v: d.v }, r);
}
