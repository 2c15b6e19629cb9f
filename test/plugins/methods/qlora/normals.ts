// Deterministic N(0, std) values for the quantisation tests (Box-Muller over a small LCG).
export function normals(n: number, seed: number, std = 1): Float32Array {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  return Float32Array.from({ length: n }, () => std * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}
