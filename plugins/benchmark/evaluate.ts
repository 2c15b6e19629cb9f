// The benchmark loop without I/O: per subject, each question's k-shot conversation encoded through the
// chat template as LF's encode_oneturn (the prompt is every turn before the final answer), scored in
// batches by a ChoiceScorer, the argmax letter compared with the answer.
import { err, ok, type Result } from "neverthrow";
import { type ChatEncoder, mulberry32 } from "../../core/index.ts";
import { argmaxChoice, type ChoiceScorer } from "./choice-logits.ts";
import { EVAL_TEMPLATES, type EvalLang, formatExample } from "./eval-template.ts";
import { aggregate, type BenchmarkResults, type SubjectResult, scoreSubject } from "./results.ts";
import { BenchmarkError, type BenchmarkTask, type Choice, type Question, type Subject } from "./task.ts";

export interface BenchmarkSettings {
  readonly nShot: number;
  readonly lang: EvalLang;
  readonly batchSize: number;
  /** false: the first nShot dev questions for every question; true: a seeded shuffle per question. */
  readonly shuffle: boolean;
  readonly seed: number;
  /** Longest prompt the model takes (its max_position_embeddings); longer is an error. */
  readonly maxPromptTokens?: number;
}

/** The k-shot examples for question `index`: the first k dev rows, or k of a seeded per-question shuffle. */
export function supportSet(dev: readonly Question[], nShot: number, shuffle: boolean, seed: number, index: number): Question[] {
  const k = Math.min(nShot, dev.length);
  if (!shuffle) return dev.slice(0, k);
  const rand = mulberry32((seed * 1_000_003 + index) >>> 0);
  const order = dev.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, k).map((i) => dev[i]!);
}

/** The prompt ids of each question of a subject (k-shot conversation, template applied, final answer left out). */
export function subjectPrompts(subject: Subject, encoder: ChatEncoder, s: BenchmarkSettings): Result<number[][], BenchmarkError> {
  const template = EVAL_TEMPLATES[s.lang];
  const prompts: number[][] = [];
  for (let i = 0; i < subject.questions.length; i++) {
    const messages = formatExample(template, subject.questions[i]!, supportSet(subject.dev, s.nShot, s.shuffle, s.seed, i), subject.name);
    const encoded = encoder.encodeOneturn(messages, "", "");
    if (encoded.isErr()) return err(new BenchmarkError(`${subject.key} question ${i + 1}: template ${encoder.name}: ${encoded.error}`));
    const ids = encoded.value[0];
    if (s.maxPromptTokens !== undefined && ids.length > s.maxPromptTokens)
      return err(
        new BenchmarkError(
          `${subject.key} question ${i + 1}: the ${s.nShot}-shot prompt is ${ids.length} tokens, over the model's ${s.maxPromptTokens}; ${
            s.nShot > 0 ? "use a smaller --n-shot" : "this model's context cannot hold the question"
          }`,
        ),
      );
    prompts.push(ids);
  }
  return ok(prompts);
}

export interface Progress {
  readonly subject: Subject;
  readonly done: number;
  readonly total: number;
  /** This batch finished the subject. */
  readonly subjectDone: boolean;
}

/**
 * Runs every subject of the task; `onProgress` after each batch (done/total over the whole task). It
 * yields to the event loop between batches so a Ctrl-C (the signal) is seen while it runs.
 */
export async function runBenchmark(
  task: BenchmarkTask,
  encoder: ChatEncoder,
  scorer: ChoiceScorer,
  s: BenchmarkSettings,
  onProgress: (p: Progress) => void = () => {},
  signal?: AbortSignal,
): Promise<Result<BenchmarkResults, BenchmarkError>> {
  const total = task.subjects.reduce((n, sub) => n + sub.questions.length, 0);
  let done = 0;
  const results: SubjectResult[] = [];
  for (const subject of task.subjects) {
    const prompts = subjectPrompts(subject, encoder, s);
    if (prompts.isErr()) return err(prompts.error);
    const predictions: Choice[] = [];
    for (let i = 0; i < prompts.value.length; i += s.batchSize) {
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) return err(new BenchmarkError("interrupted"));
      const batch = prompts.value.slice(i, i + s.batchSize);
      for (const scores of scorer(batch)) predictions.push(argmaxChoice(scores));
      done += batch.length;
      onProgress({ subject, done, total, subjectDone: i + s.batchSize >= prompts.value.length });
    }
    results.push(scoreSubject(subject, predictions));
  }
  return ok(aggregate(results));
}
