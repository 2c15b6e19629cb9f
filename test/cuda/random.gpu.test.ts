// Philox4x32-10 on the GPU is the CPU's (ffi/cpu/src/random.c) bit for bit: the raw words, uniforms and
// dropout for any seed, any offset and lengths that are not multiples of 4; normals use the same counter
// layout (4 per counter) and the same double-precision Box-Muller, where CUDA's and glibc's log/cos/sin may
// differ by an ulp in double, so a float may (rarely) differ by one ulp: required within 1 ulp, reported
// how many are bit-identical.
import { expect, test } from "bun:test";
import { philox4x32 } from "../../core/random/philox.ts";
import { native } from "../../ffi/cpu/cpu.ts";
import { cpuBackend, Tensor } from "../../lft.ts";
import { randomArray } from "../helpers/random.ts";
import { compareBackends, describeGpu, gpu, gpuTensor, read } from "./gpu.ts";

const describe = describeGpu("random.gpu.test.ts");

const draws: [bigint, bigint, number][] = [
  [0n, 0n, 1],
  [42n, 0n, 1003],
  [2n ** 63n + 5n, 12345n, 4097],
  [2n ** 64n - 1n, 2n ** 40n + 3n, 77],
];

function ulpDistance(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  // sign-magnitude bits -> a monotone integer line (-0 and +0 both map to 0)
  const key = (bits: number) => (bits < 0 ? -(bits + 0x80000000) : bits);
  return Math.abs(key(i[0]!) - key(i[1]!));
}

describe("Philox on the GPU", () => {
  for (const [seed, offset, n] of draws)
    test(`raw words, uniform and dropout are bit-identical to the CPU (seed ${seed}, offset ${offset}, n ${n})`, () => {
      const cpuWords = new Uint32Array(n);
      native.lft_philox_u32(cpuWords, n, seed, offset);
      const w = gpuTensor([n], "i32");
      gpu!.philoxU32(w, seed, offset);
      expect(new Uint32Array((gpu!.download(w) as Int32Array).buffer)).toEqual(cpuWords);
      // and both equal the TypeScript generator (core/random/philox.ts) word for word
      const first = philox4x32(offset, seed);
      expect([...cpuWords.subarray(0, Math.min(4, n))]).toEqual(first.slice(0, Math.min(4, n)));

      const u = gpuTensor([n], "f32");
      gpu!.randUniform(u, seed, offset);
      const cu = Tensor.alloc(cpuBackend, [n], "f32", false);
      cpuBackend.randUniform(cu, seed, offset);
      expect(new Uint32Array(read(u).buffer)).toEqual(new Uint32Array(read(cu).buffer));

      const r = compareBackends(
        "f32",
        (m) => {
          const x = m.x(randomArray(n, 9, -2, 2), [n]);
          const out = m.out([n]);
          m.b.dropout(out, x, 0.3, seed, offset);
          return [out];
        },
        "dropout",
        0,
      );
      expect(new Uint32Array(r.gpu[0]!.buffer)).toEqual(new Uint32Array(r.cpu[0]!.buffer));
      for (const t of [w, u, cu]) t.dispose();
    });

  test("bf16 dropout drops exactly the CPU's positions", () => {
    const n = 5000;
    const r = compareBackends(
      "bf16",
      (m) => {
        const x = m.x(randomArray(n, 11, 0.5, 2), [n]); // no zeros in x: a zero output means dropped
        const out = m.out([n]);
        m.b.dropout(out, x, 0.5, 7n, 100n);
        return [out];
      },
      "dropout bf16",
    );
    expect(r.gpu[0]!.map((v) => (v === 0 ? 1 : 0))).toEqual(r.cpu[0]!.map((v) => (v === 0 ? 1 : 0)));
  });

  for (const [seed, offset, n] of draws)
    test(`normals: same layout as the CPU, each within 1 ulp (seed ${seed}, offset ${offset}, n ${n})`, () => {
      const g = gpuTensor([n], "f32");
      gpu!.randNormal(g, seed, offset, 0.5, 2);
      const c = Tensor.alloc(cpuBackend, [n], "f32", false);
      cpuBackend.randNormal(c, seed, offset, 0.5, 2);
      const gv = read(g);
      const cv = read(c);
      let identical = 0;
      for (let i = 0; i < n; i++) {
        const d = ulpDistance(gv[i]!, cv[i]!);
        if (!(d <= 1)) throw new Error(`normal ${i}: gpu ${gv[i]} cpu ${cv[i]} (${d} ulp apart)`);
        if (d === 0) identical++;
      }
      console.log(`[cuda] randNormal n=${n}: ${identical}/${n} bit-identical to the CPU`);
      expect(identical).toBeGreaterThan(0.99 * n);
      g.dispose();
      c.dispose();
    });
});
