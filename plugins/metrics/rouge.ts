// ROUGE-1, ROUGE-2 and ROUGE-L F-scores as LLaMA-Factory reports them (the `rouge`/`rouge-chinese`
// formulas): n-gram overlap F1 = 2PR / (P + R + 1e-8); ROUGE-L from the longest common subsequence
// with beta = P/R as those packages compute it. Percentages averaged over the set; an empty side
// scores 0.
import { wordTokens } from "./text-tokens.ts";

function ngrams(tokens: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const k = tokens.slice(i, i + n).join("\u0000");
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

export function rougeN(hyp: readonly string[], ref: readonly string[], n: number): number {
  const h = ngrams(hyp, n);
  const r = ngrams(ref, n);
  let overlap = 0;
  for (const [g, c] of h) overlap += Math.min(c, r.get(g) ?? 0);
  const hypCount = Math.max(0, hyp.length - n + 1);
  const refCount = Math.max(0, ref.length - n + 1);
  const p = hypCount === 0 ? 0 : overlap / hypCount;
  const rec = refCount === 0 ? 0 : overlap / refCount;
  return 2 * ((p * rec) / (p + rec + 1e-8));
}

function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 0; j < b.length; j++) cur[j + 1] = x === b[j] ? prev[j]! + 1 : Math.max(prev[j + 1]!, cur[j]!);
    prev = cur;
  }
  return prev[b.length]!;
}

export function rougeL(hyp: readonly string[], ref: readonly string[]): number {
  if (hyp.length === 0 || ref.length === 0) return 0;
  const l = lcsLength(hyp, ref);
  const r = l / ref.length;
  const p = l / hyp.length;
  const beta = p / (r + 1e-12);
  return ((1 + beta * beta) * r * p) / (r + beta * beta * p + 1e-12);
}

export interface RougeScores {
  "rouge-1": number;
  "rouge-2": number;
  "rouge-l": number;
}

export function rougeScores(predictions: readonly string[], references: readonly string[]): RougeScores {
  const acc: RougeScores = { "rouge-1": 0, "rouge-2": 0, "rouge-l": 0 };
  if (predictions.length === 0) return acc;
  predictions.forEach((pred, i) => {
    const h = wordTokens(pred);
    const r = wordTokens(references[i]!);
    if (h.length === 0 || r.length === 0) return;
    acc["rouge-1"] += rougeN(h, r, 1) * 100;
    acc["rouge-2"] += rougeN(h, r, 2) * 100;
    acc["rouge-l"] += rougeL(h, r) * 100;
  });
  for (const k of Object.keys(acc) as (keyof RougeScores)[]) acc[k] /= predictions.length;
  return acc;
}
