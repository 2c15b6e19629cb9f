// Multiple-choice benchmarks in LLaMA-Factory's evaluation layout (MMLU, C-Eval, CMMLU): the task
// reader, LF's k-shot prompts, scoring from the choice letters' logits, and the `eval` verb.
import { definePlugin } from "../../core/index.ts";
import { evalCommand } from "./command.ts";

export { argmaxChoice, type ChoiceScorer, choiceTokenIds, modelChoiceScorer } from "./choice-logits.ts";
export { parseCsv } from "./csv.ts";
export { EVAL_TEMPLATES, type EvalLang, type EvalTemplate, formatExample, parseExample } from "./eval-template.ts";
export { type BenchmarkSettings, runBenchmark, subjectPrompts, supportSet } from "./evaluate.ts";
export { aggregate, type BenchmarkResults, CATEGORY_ORDER, scoreLines, scoreSubject, storeMetrics, writeResults } from "./results.ts";
export { BenchmarkError, type BenchmarkTask, CHOICES, loadTask, parseTaskName, type Question, readQuestions, type Subject } from "./task.ts";

export default definePlugin({
  name: "lft-benchmark",
  version: "0.1.0",
  setup(api) {
    api.register.commands(evalCommand);
  },
});
