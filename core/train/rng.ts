// The training run's random stream for kernels that take a Philox (seed, offset) pair, such as dropout.
// Each draw reserves counters from one position that only moves forward, so saving (seed, position)
// in a checkpoint and restoring it gives a resumed run the very same masks.
import { err, ok, type Result } from "neverthrow";

export interface RngState {
  /** Decimal strings: JSON has no 64-bit integers. */
  readonly seed: string;
  readonly position: string;
}

export class TrainRng {
  private pos: bigint;
  constructor(
    readonly seed: bigint,
    position = 0n,
  ) {
    this.pos = position;
  }

  /** Counter position: the next draw starts here. */
  get position(): bigint {
    return this.pos;
  }

  /**
   * The offset to pass to a Philox kernel that fills `numel` elements; reserves its counters
   * (one counter gives 4 words, so element i uses offset + floor(i / 4)).
   */
  offsetFor(numel: number): bigint {
    if (!(Number.isSafeInteger(numel) && numel >= 0)) throw new RangeError(`rng: element count must be a non-negative integer, got ${numel}`);
    const at = this.pos;
    this.pos += BigInt(Math.ceil(numel / 4));
    return at;
  }

  state(): RngState {
    return { seed: this.seed.toString(), position: this.pos.toString() };
  }

  static restore(s: unknown): Result<TrainRng, Error> {
    const st = s as Partial<RngState> | null;
    const valid = (v: unknown): v is string => typeof v === "string" && /^\d+$/.test(v);
    if (!st || !valid(st.seed) || !valid(st.position))
      return err(new Error(`rng state: expected {seed, position} as decimal strings, found ${JSON.stringify(s)}`));
    return ok(new TrainRng(BigInt(st.seed), BigInt(st.position)));
  }
}
