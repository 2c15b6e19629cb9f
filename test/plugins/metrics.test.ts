// predict's metrics. BLEU-4 values are NLTK 3.10.3's sentence_bleu([list(label)], list(pred),
// smoothing_function=SmoothingFunction().method3), exactly as LLaMA-Factory calls it; ROUGE values are
// worked by hand from the rouge package's formulas.
import { expect, test } from "bun:test";
import { createRegistry } from "../../core/index.ts";
import { bleu4, sentenceBleu } from "../../plugins/metrics/bleu.ts";
import metrics from "../../plugins/metrics/index.ts";
import { rougeL, rougeN, rougeScores } from "../../plugins/metrics/rouge.ts";
import { wordTokens } from "../../plugins/metrics/text-tokens.ts";

const NLTK: [string, string, number][] = [
  ["The cat sat on the mat.", "The cat is on the mat.", 0.7944837206494969],
  ["Hello world", "Hello world", 1.0],
  ["I am an AI assistant named Lily.", "I am Lily, an AI assistant developed by lft.", 0.5271066205246893],
  ["abc", "xyz", 0],
  ["Paris is the capital of France.", "The capital of France is Paris.", 0.8302394471244031],
  ["你好，我是助手", "你好，我是人工智能助手", 0.39931601353061874],
  ["ab", "abcd", 0.21874242445215208],
  ["", "abc", 0],
];

test("sentence BLEU-4 equals NLTK's with smoothing method3 on characters", () => {
  for (const [pred, label, want] of NLTK) {
    expect(sentenceBleu(Array.from(label), Array.from(pred))).toBeCloseTo(want, 12);
  }
  expect(
    bleu4(
      NLTK.map((c) => c[0]),
      NLTK.map((c) => c[1]),
    ),
  ).toBeCloseTo((100 * NLTK.reduce((s, c) => s + c[2], 0)) / NLTK.length, 9);
});

test("ROUGE-1/2/L F-scores on a worked example", () => {
  const h = wordTokens("The cat sat on the mat.");
  const r = wordTokens("The cat is on the mat.");
  expect(h).toEqual(["The", "cat", "sat", "on", "the", "mat", "."]);
  // 6 of 7 unigrams shared; 4 of 6 bigrams; LCS "The cat on the mat ." = 6.
  expect(rougeN(h, r, 1)).toBeCloseTo(6 / 7, 7);
  expect(rougeN(h, r, 2)).toBeCloseTo(4 / 6, 7);
  expect(rougeL(h, r)).toBeCloseTo(6 / 7, 9);
  // Unequal lengths: LCS 2 of hyp 2 and ref 4 -> P 1, R 0.5, beta 2: F = 5*0.5/(0.5+4) = 0.5556.
  expect(rougeL(["a", "b"], ["a", "x", "b", "y"])).toBeCloseTo((5 * 0.5) / 4.5, 9);
  const s = rougeScores(["The cat sat on the mat.", ""], ["The cat is on the mat.", "anything"]);
  expect(s["rouge-1"]).toBeCloseTo((100 * 6) / 7 / 2, 4);
});

test("CJK is scored per character, punctuation as tokens", () => {
  expect(wordTokens("你好，世界! ok")).toEqual(["你", "好", "，", "世", "界", "!", "ok"]);
});

test("the plugin registers bleu-4, rouge-1/2/l and exact_match", () => {
  const r = createRegistry();
  expect(r.use(metrics).isOk()).toBe(true);
  expect(r.list("metrics").map((m) => m.name)).toEqual(["bleu-4", "exact_match", "rouge-1", "rouge-2", "rouge-l"]);
  const em = r.get("metrics", "exact_match")._unsafeUnwrap();
  expect(em.compute({ predictions: ["a ", "b"], references: ["a", "c"] }, {})).toBe(50);
});
