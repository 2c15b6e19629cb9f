// Philox4x32-10 in TypeScript, bit-identical to ffi/cpu/src/random.c: for seeding, shuffling and
// sampling on the host with the same reproducibility as the kernels. Counter = 64-bit index, key = seed.
const M0 = 0xd2511f53n;
const M1 = 0xcd9e8d57n;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const MASK = 0xffffffffn;

function mulhilo(a: bigint, b: number): [number, number] {
  const p = a * BigInt(b);
  return [Number(p >> 32n), Number(p & MASK)];
}

/** The four 32-bit words for one counter value. */
export function philox4x32(counter: bigint, seed: bigint): [number, number, number, number] {
  let c0 = Number(counter & MASK);
  let c1 = Number((counter >> 32n) & MASK);
  let c2 = 0;
  let c3 = 0;
  let k0 = Number(seed & MASK);
  let k1 = Number((seed >> 32n) & MASK);
  for (let r = 0; r < 10; r++) {
    const [hi0, lo0] = mulhilo(M0, c0);
    const [hi1, lo1] = mulhilo(M1, c2);
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** A stream of 32-bit words from (seed, position); word i equals the kernel's u32 element i. */
export class Philox {
  private words: [number, number, number, number] = [0, 0, 0, 0];
  private pos: bigint;
  constructor(
    readonly seed: bigint,
    /** Words already consumed: saving `position` and passing it back resumes the stream exactly. */
    position = 0n,
  ) {
    this.pos = position;
    if (position % 4n !== 0n) this.words = philox4x32(position / 4n, seed);
  }

  get position(): bigint {
    return this.pos;
  }

  nextU32(): number {
    const j = Number(this.pos % 4n);
    if (j === 0) this.words = philox4x32(this.pos / 4n, this.seed);
    this.pos++;
    return this.words[j]!;
  }

  /** [0, 1) with 24 random bits, as the kernel's uniform. */
  nextFloat(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /** [0, 1) with 53 random bits, for choices over large ranges. */
  nextDouble(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }

  /** Integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.nextDouble() * n);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}
