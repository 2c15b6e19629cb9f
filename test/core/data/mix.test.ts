// Mixing, selection and splitting with Hugging Face's / LLaMA-Factory's rules, seeded.
import { describe, expect, test } from "bun:test";
import { dataRng, mixOrder, mixStreams, selectRows, shuffleBuffer, splitTrainEval } from "../../../core/index.ts";

const rng = () => dataRng(42, "mix");
const flat = (o: [number, number][]) => o.map(([s, i]) => `${s}:${i}`);

describe("mixOrder", () => {
  test("concat appends in order", () => {
    expect(flat(mixOrder([2, 1], "concat", undefined, rng()))).toEqual(["0:0", "0:1", "1:0"]);
  });

  test("interleave_under without probabilities takes turns until the shortest runs out", () => {
    // Hugging Face's example for lengths [3, 4, 5]: indices [0, 3, 7, 1, 4, 8, 2, 5, 9].
    expect(flat(mixOrder([3, 4, 5], "interleave_under", undefined, rng()))).toEqual(["0:0", "1:0", "2:0", "0:1", "1:1", "2:1", "0:2", "1:2", "2:2"]);
  });

  test("interleave_over without probabilities cycles shorter sources until the longest is done", () => {
    expect(flat(mixOrder([2, 3], "interleave_over", undefined, rng()))).toEqual(["0:0", "1:0", "0:1", "1:1", "0:0", "1:2"]);
  });

  test("with probabilities: under stops when the first source is exhausted, over when all are", () => {
    const under = mixOrder([5, 50], "interleave_under", [0.5, 0.5], rng());
    const count = (o: [number, number][], s: number) => o.filter(([x]) => x === s).length;
    expect(count(under, 0) === 5 || count(under, 1) === 50).toBe(true);
    expect(under.at(-1)![1]).toBe(under.at(-1)![0] === 0 ? 4 : 49);
    const over = mixOrder([5, 50], "interleave_over", [0.9, 0.1], rng());
    expect(count(over, 1)).toBe(50); // the last source to run out ends the mix at its last row
    expect(count(over, 0)).toBeGreaterThan(5); // the other was restarted (over-sampled)
    expect(over.at(-1)).toEqual([1, 49]);
    // Seeded: the same seed gives the same order, another seed another.
    expect(mixOrder([5, 50], "interleave_over", [0.9, 0.1], rng())).toEqual(over);
    expect(mixOrder([5, 50], "interleave_over", [0.9, 0.1], dataRng(7, "mix"))).not.toEqual(over);
  });

  test("mixStreams follows the same rules lazily", async () => {
    async function* gen(tag: string, n: number) {
      for (let i = 0; i < n; i++) yield `${tag}${i}`;
    }
    const all = async (it: AsyncGenerator<string>) => {
      const out: string[] = [];
      for await (const x of it) out.push(x);
      return out;
    };
    expect(await all(mixStreams([gen("a", 2), gen("b", 3)], "concat", undefined, rng()))).toEqual(["a0", "a1", "b0", "b1", "b2"]);
    expect(await all(mixStreams([gen("a", 2), gen("b", 3)], "interleave_under", undefined, rng()))).toEqual(["a0", "b0", "a1", "b1"]);
    expect(await all(mixStreams([gen("a", 2), gen("b", 3)], "interleave_over", undefined, rng()))).toEqual(["a0", "b0", "a1", "b1", "b2"]);
  });
});

describe("selection, split and shuffle", () => {
  test("num_samples: a random subset without repeats, then draws with replacement; max_samples takes the first rows", () => {
    const rows = ["a", "b", "c", "d"];
    const three = selectRows(rows, { numSamples: 3, rng: dataRng(1, "sample") });
    expect(new Set(three).size).toBe(3);
    const ten = selectRows(rows, { numSamples: 10, rng: dataRng(1, "sample") });
    expect(ten.length).toBe(10);
    expect(new Set(ten.slice(0, 4))).toEqual(new Set(rows)); // every row first
    expect(selectRows(rows, { maxSamples: 2, rng: dataRng(1, "sample") })).toEqual(["a", "b"]);
  });

  test("val_size as a fraction rounds up, as a count is exact; the split is a seeded permutation", () => {
    const xs = Array.from({ length: 10 }, (_, i) => i);
    const a = splitTrainEval(xs, 0.15, dataRng(42, "split"));
    expect([a.eval.length, a.train.length]).toEqual([2, 8]);
    expect([...a.eval, ...a.train].sort((x, y) => x - y)).toEqual(xs);
    expect(splitTrainEval(xs, 3, dataRng(42, "split")).eval.length).toBe(3);
    expect(splitTrainEval(xs, 0.15, dataRng(42, "split"))).toEqual(a);
  });

  test("a shuffle buffer of 1 keeps the order; a larger one permutes without losing items", async () => {
    async function* gen() {
      for (let i = 0; i < 100; i++) yield i;
    }
    const take = async (size: number) => {
      const out: number[] = [];
      for await (const x of shuffleBuffer(gen(), size, dataRng(3, "shuffle"))) out.push(x);
      return out;
    };
    expect(await take(1)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const shuffled = await take(16);
    expect(shuffled).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...shuffled].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
