// Stepwise generation (what a server interleaves with its other work): stepping to the end gives
// generate()'s result, each step advances every running row by one token, and stopping early frees the
// KV cache without running the remaining steps; rows of one batch may have their own token budgets.
import { expect, test } from "bun:test";
import { cpuBackend, generate, generateSteps } from "../../../lft.ts";
import { randomModel, specOf } from "../nn/helpers.ts";

const liveBytes = (): number => cpuBackend.allocator.stats().liveBytes;

const PROMPTS = [
  [1, 7, 3, 22, 9, 30],
  [1, 12],
];

test("stepping to the end equals generate(), one token per row per step", () => {
  const model = randomModel(specOf(), 41);
  const o = { maxNewTokens: 10, doSample: true, temperature: 0.9, seed: 7 };
  const whole = generate(model, PROMPTS, o)._unsafeUnwrap();
  const counts: number[] = [];
  const steps = generateSteps(model, PROMPTS, { ...o, onToken: (e) => (counts[e.row] = e.index + 1) })._unsafeUnwrap();
  let n = 0;
  for (let s = steps.next(); ; s = steps.next()) {
    if (s.done) {
      expect(s.value).toEqual(whole);
      break;
    }
    expect(s.value).toBe(n);
    n++;
    expect(counts).toEqual([n, n]);
  }
  expect(n).toBe(10);
  model.dispose();
});

test("return() stops after the steps taken and frees the cache; bad inputs fail before any step", () => {
  const model = randomModel(specOf(), 42);
  // A first run builds what the model keeps between calls (RoPE tables); then only the cache is new.
  generate(model, [PROMPTS[0]!], { maxNewTokens: 2 });
  const before = liveBytes();
  const tokens: number[] = [];
  const steps = generateSteps(model, [PROMPTS[0]!], { maxNewTokens: 50, onToken: (e) => tokens.push(e.token) })._unsafeUnwrap();
  steps.next();
  steps.next();
  steps.next();
  expect(liveBytes()).toBeGreaterThan(before);
  steps.return(undefined as never);
  expect(tokens).toHaveLength(3);
  expect(liveBytes()).toBe(before);
  expect(generateSteps(model, [[]], { maxNewTokens: 5 }).isErr()).toBe(true);
  model.dispose();
});

test("per-row budgets: each row of a batch stops at its own maxNewTokens, as it would alone", () => {
  const model = randomModel(specOf(), 43);
  const alone = [generate(model, [PROMPTS[0]!], { maxNewTokens: 3 }), generate(model, [PROMPTS[1]!], { maxNewTokens: 9 })].map((r) => r._unsafeUnwrap());
  const batch = generate(model, PROMPTS, { maxNewTokens: 9, maxNewTokensPerRow: [3, 9] })._unsafeUnwrap();
  expect(batch.tokens).toEqual([alone[0]!.tokens[0]!, alone[1]!.tokens[0]!]);
  expect(batch.tokens.map((t) => t.length)).toEqual([3, 9]);
  expect(generate(model, PROMPTS, { maxNewTokens: 9, maxNewTokensPerRow: [3] }).isErr()).toBe(true);
  expect(generate(model, PROMPTS, { maxNewTokens: 9, maxNewTokensPerRow: [0, 2] }).isErr()).toBe(true);
  model.dispose();
});
