// Accuracy per subject, per category and on average from the predicted letters, printed as
// LLaMA-Factory prints it (`{category:>15}: {100 * acc:.2f}`, in its SUBJECTS order) and written as
// eval_results.json plus LF's own results.json (predictions) and results.log (the printed lines).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Choice, Subject } from "./task.ts";

/** LLaMA-Factory's category order (extras/constants.py SUBJECTS); other categories follow as first seen. */
export const CATEGORY_ORDER = ["Average", "STEM", "Social Sciences", "Humanities", "Other"] as const;

export interface SubjectResult {
  readonly key: string;
  readonly name: string;
  readonly category: string;
  readonly predictions: readonly Choice[];
  readonly correct: number;
  readonly total: number;
}

export interface Tally {
  readonly correct: number;
  readonly total: number;
  /** Percent, 0-100 (LF's unit). */
  readonly accuracy: number;
}

export interface BenchmarkResults {
  readonly subjects: readonly SubjectResult[];
  /** Average first, then the categories in LF's order; only categories with questions. */
  readonly categories: ReadonlyMap<string, Tally>;
}

export function scoreSubject(subject: Pick<Subject, "key" | "name" | "category" | "questions">, predictions: readonly Choice[]): SubjectResult {
  if (predictions.length !== subject.questions.length)
    throw new Error(`${subject.key}: ${predictions.length} predictions for ${subject.questions.length} questions`);
  const correct = predictions.filter((p, i) => p === subject.questions[i]!.answer).length;
  return { key: subject.key, name: subject.name, category: subject.category, predictions, correct, total: predictions.length };
}

const tally = (correct: number, total: number): Tally => ({ correct, total, accuracy: total === 0 ? 0 : (100 * correct) / total });

/** Per category (and Average over every question), counted over questions, not averaged over subjects. */
export function aggregate(subjects: readonly SubjectResult[]): BenchmarkResults {
  const sums = new Map<string, [number, number]>(CATEGORY_ORDER.map((c) => [c, [0, 0]]));
  for (const s of subjects) {
    for (const c of ["Average", s.category]) {
      const cur = sums.get(c) ?? [0, 0];
      sums.set(c, [cur[0] + s.correct, cur[1] + s.total]);
    }
  }
  const categories = new Map<string, Tally>();
  for (const [c, [correct, total]] of sums) if (total > 0) categories.set(c, tally(correct, total));
  return { subjects, categories };
}

/** The lines LF prints: `{category:>15}: {acc:.2f}`. */
export function scoreLines(r: BenchmarkResults): string {
  return [...r.categories].map(([c, t]) => `${c.padStart(15)}: ${t.accuracy.toFixed(2)}`).join("\n");
}

/** Flat metrics for the run store: `<task>/<category>` and `<task>/subject/<key>`, in percent. */
export function storeMetrics(task: string, r: BenchmarkResults): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [c, t] of r.categories) out[`${task}/${c}`] = t.accuracy;
  for (const s of r.subjects) out[`${task}/subject/${s.key}`] = tally(s.correct, s.total).accuracy;
  return out;
}

export interface ResultsHeader {
  readonly task: string;
  readonly model: string;
  readonly adapter: string | null;
  /** What changed the session's model since it was loaded (the REPL's `:eval` on a trained model). */
  readonly changes?: readonly string[];
  readonly template: string;
  readonly lang: string;
  readonly nShot: number;
  readonly shuffle: boolean;
  readonly seed: number;
}

/** Writes eval_results.json (everything), results.json (LF: subject -> {"i": letter}) and results.log. */
export function writeResults(dir: string, header: ResultsHeader, r: BenchmarkResults): string[] {
  const evalResults = {
    ...header,
    average: r.categories.get("Average")?.accuracy ?? null,
    categories: Object.fromEntries(r.categories),
    subjects: Object.fromEntries(
      r.subjects.map((s) => [s.key, { name: s.name, category: s.category, ...tally(s.correct, s.total), predictions: s.predictions.join("") }]),
    ),
  };
  const lfResults = Object.fromEntries(r.subjects.map((s) => [s.key, Object.fromEntries(s.predictions.map((p, i) => [String(i), p]))]));
  const files = [join(dir, "eval_results.json"), join(dir, "results.json"), join(dir, "results.log")];
  writeFileSync(files[0]!, `${JSON.stringify(evalResults, null, 2)}\n`);
  writeFileSync(files[1]!, JSON.stringify(lfResults, null, 2));
  writeFileSync(files[2]!, scoreLines(r));
  return files;
}
