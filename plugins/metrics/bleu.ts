// Sentence BLEU-4 as LLaMA-Factory reports it: NLTK's sentence_bleu over characters (list(pred) against
// [list(label)]), uniform 1..4-gram weights, clipped counts, brevity penalty, and NLTK's smoothing
// "method3" (a precision with no match counts as 1 / (2^k * n-grams), k growing per such order).
// Scores are percentages averaged over the set.

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join("\u0000");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** BLEU-4 of one hypothesis against one reference, in [0, 1]. */
export function sentenceBleu(reference: readonly string[], hypothesis: readonly string[]): number {
  const numerators: number[] = [];
  const denominators: number[] = [];
  for (let n = 1; n <= 4; n++) {
    const hyp = ngramCounts(hypothesis, n);
    const ref = ngramCounts(reference, n);
    let clipped = 0;
    let total = 0;
    for (const [g, c] of hyp) {
      clipped += Math.min(c, ref.get(g) ?? 0);
      total += c;
    }
    numerators.push(clipped);
    denominators.push(Math.max(1, total));
  }
  // NLTK returns 0 outright when no unigram matches.
  if (numerators[0] === 0) return 0;
  const c = hypothesis.length;
  const r = reference.length;
  const bp = c > r ? 1 : c === 0 ? 0 : Math.exp(1 - r / c);
  let k = 1;
  let logSum = 0;
  for (let i = 0; i < 4; i++) {
    let p = numerators[i]! / denominators[i]!;
    if (numerators[i] === 0) p = 1 / (2 ** k++ * denominators[i]!);
    logSum += 0.25 * Math.log(p);
  }
  return bp * Math.exp(logSum);
}

/** LLaMA-Factory's "bleu-4": character-level sentence BLEU, as a percentage, averaged. */
export function bleu4(predictions: readonly string[], references: readonly string[]): number {
  if (predictions.length === 0) return 0;
  let sum = 0;
  for (const [i, p] of predictions.entries()) sum += sentenceBleu(Array.from(references[i]!), Array.from(p)) * 100;
  return sum / predictions.length;
}
