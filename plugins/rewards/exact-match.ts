// `exact_match`: 1 when a completion's answer equals the row's reference (its response column, e.g. an
// `answer` column mapped as the response), else 0. The answer is the whole completion, its first line,
// or the text after a marker ("The answer is"), compared after trimming and, by default, case folding.
import type { OptionSchema, RewardEntry } from "../../core/index.ts";

export const exactMatchOptions = {
  answer_from: {
    type: "enum",
    values: ["all", "first_line", "first_word", "after_marker"],
    default: "first_line",
    doc: "which part of the completion is its answer (after_marker: the text after answer_marker)",
  },
  answer_marker: { type: "string", default: "answer:", doc: "with answer_from = after_marker: the answer follows its last occurrence" },
  ignore_case: { type: "boolean", default: true, doc: "compare without case" },
} as const satisfies OptionSchema;

export function extractAnswer(completion: string, from: string, marker: string, ignoreCase: boolean): string {
  let text = completion;
  if (from === "first_line") text = text.trimStart().split("\n")[0] ?? "";
  else if (from === "first_word") text = text.trim().split(/\s+/)[0] ?? "";
  else if (from === "after_marker") {
    const hay = ignoreCase ? text.toLowerCase() : text;
    const at = hay.lastIndexOf(ignoreCase ? marker.toLowerCase() : marker);
    if (at < 0) return "";
    text = text.slice(at + marker.length);
  }
  // Trailing sentence punctuation is not part of an answer ("Paris." answers "Paris").
  text = text
    .trim()
    .replace(/[.!?]+$/, "")
    .trim();
  return ignoreCase ? text.toLowerCase() : text;
}

export const exactMatchReward: RewardEntry = {
  name: "exact_match",
  doc: "1 when the completion's answer equals the row's reference response, else 0",
  options: exactMatchOptions,
  score(input, o) {
    const ignoreCase = o.ignore_case !== false;
    const from = String(o.answer_from ?? "first_line");
    const marker = String(o.answer_marker ?? "answer:");
    const want = extractAnswer(input.reference, "all", marker, ignoreCase);
    return input.completions.map((c) => (want !== "" && extractAnswer(c, from, marker, ignoreCase) === want ? 1 : 0));
  },
};
