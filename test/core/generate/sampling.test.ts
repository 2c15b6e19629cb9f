// The sampling steps against hand-computed values: repetition penalty, temperature, top-k, top-p (with
// transformers' boundary rules), greedy ties, and the empirical frequencies of seeded draws.
import { expect, test } from "bun:test";
import { applyRepetitionPenalty, argmax, chooseToken, Philox, sampleFrom, tokenProbabilities } from "../../../core/index.ts";

const ON = { doSample: true, temperature: 1, topK: 0, topP: 1 };
const logitsOf = (probs: number[]) => Float32Array.from(probs, Math.log);

test("repetition penalty divides positive and multiplies negative logits of seen tokens, once each", () => {
  const l = Float32Array.from([2, -2, 1, 4]);
  applyRepetitionPenalty(l, [0, 1, 1, 0], 2);
  expect([...l]).toEqual([1, -4, 1, 4]);
});

test("greedy takes the first of tied maxima", () => {
  expect(argmax([0.5, 3, -1, 3])).toBe(1);
  expect(chooseToken(Float32Array.from([0.5, 3, -1, 3]), { ...ON, doSample: false }, new Philox(0n))).toBe(1);
});

test("temperature, top-k and top-p give transformers' distributions", () => {
  const p = tokenProbabilities(Float32Array.from([1, 2, 3, 0]), { ...ON, temperature: 0.5 });
  const e = [2, 4, 6, 0].map(Math.exp);
  const z = e.reduce((a, b) => a + b);
  for (let i = 0; i < 4; i++) expect(p[i]!).toBeCloseTo(e[i]! / z, 6);
  // top-k 2 keeps the two largest; a tie with the 2nd largest is kept too (transformers keeps >= k-th).
  expect([...tokenProbabilities(Float32Array.from([1, 3, 2, 0]), { ...ON, topK: 2 })].map((x) => x > 0)).toEqual([false, true, true, false]);
  expect([...tokenProbabilities(Float32Array.from([2, 3, 2, 0]), { ...ON, topK: 2 })].map((x) => x > 0)).toEqual([true, true, true, false]);
  // top-p on [.5, .3, .15, .05]: ascending mass .05, .20, .50, 1; tokens whose mass <= 1 - p are dropped.
  const q = logitsOf([0.5, 0.3, 0.15, 0.05]);
  const kept = (topP: number) => [...tokenProbabilities(q, { ...ON, topP })].map((x) => x > 0);
  expect(kept(0.7)).toEqual([true, true, false, false]);
  expect(kept(0.8)).toEqual([true, true, false, false]);
  expect(kept(0.9)).toEqual([true, true, true, false]);
  expect(kept(0.01)).toEqual([true, false, false, false]); // the most likely token always stays
  const renorm = tokenProbabilities(q, { ...ON, topP: 0.7 });
  expect(renorm[0]!).toBeCloseTo(0.5 / 0.8, 6);
});

test("seeded draws follow the distribution and replay exactly", () => {
  const probs = Float64Array.from([0.1, 0.6, 0.0, 0.3]);
  const draw = (seed: bigint) => {
    const rng = new Philox(seed);
    return Array.from({ length: 4000 }, () => sampleFrom(probs, rng));
  };
  const a = draw(5n);
  expect(draw(5n)).toEqual(a);
  const freq = [0, 1, 2, 3].map((i) => a.filter((x) => x === i).length / a.length);
  // 4000 draws: the standard error of a frequency is <= 0.008; 0.03 is ~4 sigma.
  for (let i = 0; i < 4; i++) expect(Math.abs(freq[i]! - probs[i]!)).toBeLessThan(0.03);
  expect(freq[2]).toBe(0);
});
