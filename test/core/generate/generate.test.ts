// Generation: the KV cache against full recomputation, left-padded batches against one-by-one runs, a
// sliding-window model against full attention, EOS and stop strings, streaming, seeded sampling.
import { expect, test } from "bun:test";
import { type CausalLM, cpuBackend, type GenerateOptions, generate, KVCache, noGrad, type TokenEvent, tensor, tidy } from "../../../lft.ts";
import { relError } from "../../helpers/compare.ts";
import { randomModel, specOf, TEST_CONFIG } from "../nn/helpers.ts";

/** Id i decodes to the i-th character: a real (if tiny) tokenizer for stop strings and streaming. */
const CHARS = "abcdefghijklmnopqrstuvwxyz .,!?012345678";
const charTokenizer = { decode: (ids: readonly number[]) => ids.map((i) => CHARS[i] ?? "").join("") };

const PROMPTS = [
  [1, 7, 3, 22, 9, 30],
  [1, 12],
  [1, 5, 5, 18],
];

function gen(model: CausalLM, prompts: number[][], o: Partial<GenerateOptions> = {}) {
  return generate(model, prompts, { maxNewTokens: 8, ...o })._unsafeUnwrap();
}

test("cached generation equals uncached recomputation token for token (greedy, 12 steps)", () => {
  const model = randomModel(specOf(), 31);
  for (const p of PROMPTS) {
    const cached = gen(model, [p], { maxNewTokens: 12 });
    const full = gen(model, [p], { maxNewTokens: 12, useCache: false });
    expect(cached.tokens[0]!.length).toBe(12);
    expect(cached.tokens).toEqual(full.tokens);
  }
  // Not a degenerate model: it does not just repeat one token.
  expect(new Set(gen(model, [PROMPTS[0]!], { maxNewTokens: 12 }).tokens[0]).size).toBeGreaterThan(2);
  model.dispose();
});

test("the cache's last-step logits equal a full forward over the same sequence", () => {
  const model = randomModel(specOf(), 32);
  const seq = [1, 7, 3, 22, 9, 30, 4, 11];
  const cache = new KVCache(2);
  const stepped = noGrad(() => {
    tidy(() => model.forward(tensor(seq.slice(0, 5), [1, 5], { dtype: "i32" }), { cache }));
    tidy(() => model.forward(tensor(seq.slice(5, 7), [1, 2], { dtype: "i32" }), { cache }));
    return tidy(() => model.forward(tensor([seq[7]!], [1, 1], { dtype: "i32" }), { cache }).toArray());
  });
  expect(cache.length).toBe(8);
  cache.dispose();
  const full = noGrad(() => tidy(() => model.forward(tensor(seq, [1, 8], { dtype: "i32" }), { lastOnly: true }).toArray()));
  expect(relError(stepped, full)).toBeLessThan(1e-5);
  model.dispose();
});

test("a left-padded batch generates what each prompt generates alone, with and without the cache", () => {
  const model = randomModel(specOf(), 33);
  const alone = PROMPTS.map((p) => gen(model, [p]).tokens[0]!);
  expect(gen(model, PROMPTS).tokens).toEqual(alone);
  expect(gen(model, PROMPTS, { useCache: false }).tokens).toEqual(alone);
  // RoPE scores depend on position differences only, so equal tokens alone would not show a shifted
  // row: check what the model is given. Each row counts from 0 at its first real token; pads are segment 0.
  const seen: { pos: number[]; seg: number[] }[] = [];
  const forward = model.forward.bind(model);
  model.forward = (ids, o = {}) => {
    seen.push({ pos: [...o.positionIds!.toArray()], seg: [...o.segmentIds!.toArray()] });
    return forward(ids, o);
  };
  gen(model, PROMPTS, { maxNewTokens: 2 });
  expect(seen[0]!.pos).toEqual([0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3]);
  expect(seen[0]!.seg).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1]);
  expect(seen[1]).toEqual({ pos: [6, 2, 4], seg: [1, 1, 1] });
  model.dispose();
});

test("a sliding-window model matches full attention while the sequence is shorter than the window, and not after", () => {
  const full = randomModel(specOf(), 34);
  const windowed = randomModel(specOf(TEST_CONFIG, { slidingWindows: [10, 10] }), 34);
  const p = PROMPTS[0]!; // 6 tokens + 4 new = 10 positions: every key within the window
  expect(gen(windowed, [p], { maxNewTokens: 4 }).tokens).toEqual(gen(full, [p], { maxNewTokens: 4 }).tokens);
  const seq = [...p, 4, 11, 2, 19];
  const logits = (m: CausalLM, ids: number[]) => noGrad(() => tidy(() => m.forward(tensor(ids, [1, ids.length], { dtype: "i32" })).toArray()));
  expect(relError(logits(windowed, seq), logits(full, seq))).toBe(0);
  // Past the window the models differ, and the windowed cache still equals windowed recomputation.
  const long = [...seq, 7, 8, 9, 13];
  expect(relError(logits(windowed, long), logits(full, long))).toBeGreaterThan(1e-4);
  expect(gen(windowed, [p], { maxNewTokens: 14 }).tokens).toEqual(gen(windowed, [p], { maxNewTokens: 14, useCache: false }).tokens);
  full.dispose();
  windowed.dispose();
});

test("EOS ends a row (kept as its last token) while other rows go on", () => {
  const model = randomModel(specOf(), 35);
  const free = gen(model, PROMPTS, { maxNewTokens: 10 });
  // Make the third token row 0 generates an end token: its row stops there, the others are unchanged.
  const eos = free.tokens[0]![2]!;
  const r = gen(model, PROMPTS, { maxNewTokens: 10, eosTokenIds: [eos] });
  expect(r.tokens[0]).toEqual(free.tokens[0]!.slice(0, free.tokens[0]!.indexOf(eos) + 1));
  expect(r.finishReasons[0]).toBe("eos");
  for (const b of [1, 2]) {
    const i = free.tokens[b]!.indexOf(eos);
    expect(r.tokens[b]).toEqual(i >= 0 ? free.tokens[b]!.slice(0, i + 1) : free.tokens[b]!);
  }
  model.dispose();
});

test("stop strings cut the text before them and end the row; streaming never shows the cut part", () => {
  const model = randomModel(specOf(), 36);
  const free = gen(model, [PROMPTS[0]!], { maxNewTokens: 12, tokenizer: charTokenizer });
  const text = free.texts![0]!;
  expect(text.length).toBe(12);
  const stop = text.slice(5, 8);
  const events: TokenEvent[] = [];
  const r = gen(model, [PROMPTS[0]!], { maxNewTokens: 12, tokenizer: charTokenizer, stopStrings: ["zzzz", stop], onToken: (e) => events.push(e) });
  const at = text.indexOf(stop);
  expect(r.texts![0]).toBe(text.slice(0, at));
  expect(r.finishReasons[0]).toBe("stop");
  expect(r.tokens[0]).toEqual(free.tokens[0]!.slice(0, at + stop.length));
  expect(events.map((e) => e.token)).toEqual(r.tokens[0]!);
  expect(events.map((e) => e.index)).toEqual(r.tokens[0]!.map((_, i) => i));
  expect(events.map((e) => e.text).join("")).toBe(r.texts![0]!);
});

test("sampling is reproducible from its seed and differs across seeds", () => {
  const model = randomModel(specOf(), 37);
  const o = { maxNewTokens: 16, doSample: true, temperature: 1.5, topK: 20, topP: 0.95 };
  const a = gen(model, PROMPTS, { ...o, seed: 7 });
  expect(gen(model, PROMPTS, { ...o, seed: 7 }).tokens).toEqual(a.tokens);
  expect(gen(model, PROMPTS, { ...o, seed: 8 }).tokens).not.toEqual(a.tokens);
  // With the cache or without, the same draws are made in the same order.
  expect(gen(model, PROMPTS, { ...o, seed: 7, useCache: false }).tokens).toEqual(a.tokens);
  model.dispose();
});

test("bad requests are refused with every problem named", () => {
  const model = randomModel(specOf(), 38);
  const e = generate(model, [[1, 99], []], { maxNewTokens: -1, doSample: true, topP: 0, stopStrings: ["x"] })._unsafeUnwrapErr();
  expect(e.message).toBe(
    "generate: prompt 0 holds token id 99, outside the vocabulary [0, 40); prompt 1 is empty (start it with BOS at least); maxNewTokens must be an integer >= 0, got -1; topP must be in (0, 1], got 0; stop strings need a tokenizer to decode the generated text",
  );
  model.dispose();
});

test("generation returns every byte it allocated (cache included), batched or not", () => {
  const model = randomModel(specOf(), 39);
  gen(model, [PROMPTS[0]!], { maxNewTokens: 2 }); // warm the model's RoPE table
  const live = cpuBackend.allocator.stats().liveBytes;
  gen(model, PROMPTS, { maxNewTokens: 6 });
  gen(model, PROMPTS, { maxNewTokens: 6, useCache: false, doSample: true });
  expect(cpuBackend.allocator.stats().liveBytes).toBe(live);
  model.dispose();
});
