// Low-rank projections of a gradient G [m, n], on the host in float64 (GaLore, APOLLO):
//   right: P [r, n],            low = G·Pᵀ [m, r],    back(low) = low·P
//   left:  P [m, r],            low = Pᵀ·G [r, n],    back(low) = P·low
//   full:  L [m, r], R [r, n],  low = Lᵀ·G·Rᵀ [r, r], back(low) = L·low·R
// The matrices come from an SVD of G (GaLore) or a seeded Gaussian draw (APOLLO); see the callers.

export type Side = "left" | "right" | "full";

export interface Projection {
  readonly side: Side;
  /** Rank actually used: min(rank, m, n). */
  readonly r: number;
  /** [m, r] for left and full. */
  readonly left?: Float64Array;
  /** [r, n] for right and full. */
  readonly right?: Float64Array;
}

/** C [a, c] = op(A)·op(B), with op(A) [a, b] and op(B) [b, c]; tA / tB: A is stored [b, a] / B is stored [c, b]. */
export function matmul(A: Float64Array, B: Float64Array, a: number, b: number, c: number, tA = false, tB = false): Float64Array {
  const C = new Float64Array(a * c);
  for (let i = 0; i < a; i++) {
    for (let k = 0; k < b; k++) {
      const x = tA ? A[k * a + i]! : A[i * b + k]!;
      if (x === 0) continue;
      const row = i * c;
      if (tB) for (let j = 0; j < c; j++) C[row + j] = C[row + j]! + x * B[j * b + k]!;
      else {
        const off = k * c;
        for (let j = 0; j < c; j++) C[row + j] = C[row + j]! + x * B[off + j]!;
      }
    }
  }
  return C;
}

/** Shape of the projected gradient of an [m, n] matrix. */
export function lowShape(side: Side, m: number, n: number, r: number): [number, number] {
  return side === "right" ? [m, r] : side === "left" ? [r, n] : [r, r];
}

/** Element count of the projection matrices of an [m, n] matrix. */
export function projectionNumel(side: Side, m: number, n: number, r: number): number {
  return side === "right" ? r * n : side === "left" ? m * r : m * r + r * n;
}

export function project(g: Float64Array, m: number, n: number, p: Projection): Float64Array {
  const { r } = p;
  if (p.side === "right") return matmul(g, p.right!, m, n, r, false, true);
  if (p.side === "left") return matmul(p.left!, g, r, m, n, true, false);
  const lg = matmul(p.left!, g, r, m, n, true, false);
  return matmul(lg, p.right!, r, n, r, false, true);
}

export function projectBack(low: Float64Array, m: number, n: number, p: Projection): Float64Array {
  const { r } = p;
  if (p.side === "right") return matmul(low, p.right!, m, r, n);
  if (p.side === "left") return matmul(p.left!, low, m, r, n);
  return matmul(matmul(p.left!, low, m, r, r), p.right!, m, r, n);
}

/** The projection matrices as one flat f32 array (left then right), for device state and checkpoints. */
export function packProjection(p: Projection): Float32Array {
  const parts = [p.left, p.right].filter((x): x is Float64Array => x !== undefined);
  const out = new Float32Array(parts.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const x of parts) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/** Inverse of packProjection. */
export function unpackProjection(side: Side, m: number, r: number, flat: Float32Array): Projection {
  const f = Float64Array.from(flat);
  if (side === "right") return { side, r, right: f };
  if (side === "left") return { side, r, left: f };
  return { side, r, left: f.subarray(0, m * r), right: f.subarray(m * r) };
}
