// LLaMA-Factory's evaluation templates (src/llamafactory/eval/template.py): how a question becomes a
// user turn and how k-shot examples become alternating user/assistant turns, per language.
import type { Message } from "../../core/index.ts";
import { CHOICES, type Question } from "./task.ts";

export interface EvalTemplate {
  /** The line the first user turn starts with; `{subject}` is the subject's display name. */
  readonly system: string;
  /** One choice line; `{choice}` is the letter, `{content}` its text. */
  readonly choice: string;
  /** What closes each question. */
  readonly answer: string;
}

export const EVAL_TEMPLATES: Readonly<Record<"en" | "zh", EvalTemplate>> = {
  en: { system: "The following are multiple choice questions (with answers) about {subject}.\n\n", choice: "\n{choice}. {content}", answer: "\nAnswer:" },
  zh: { system: "以下是中国关于{subject}考试的单项选择题，请选出其中的正确答案。\n\n", choice: "\n{choice}. {content}", answer: "\n答案：" },
};

export type EvalLang = keyof typeof EVAL_TEMPLATES;

export function isEvalLang(s: string): s is EvalLang {
  return Object.hasOwn(EVAL_TEMPLATES, s);
}

/** A question as its user turn (the question, a line per choice, the answer cue) and the reply (its letter). */
export function parseExample(t: EvalTemplate, q: Question): [string, string] {
  // Replacement functions: a `$&` in a question is text, not a replacement pattern.
  const choices = CHOICES.map((ch) => t.choice.replace("{choice}", ch).replace("{content}", () => q[ch]));
  return [[q.question, ...choices, t.answer].join(""), q.answer];
}

/**
 * The k-shot conversation for `target`: each support question and its answer as a user/assistant pair,
 * then the target and its answer; the first user turn is prefixed by the template's system line.
 */
export function formatExample(t: EvalTemplate, target: Question, support: readonly Question[], subjectName: string): Message[] {
  const messages: Message[] = [];
  for (const q of [...support, target]) {
    const [prompt, response] = parseExample(t, q);
    messages.push({ role: "user", content: prompt }, { role: "assistant", content: response });
  }
  const first = messages[0]!;
  messages[0] = { ...first, content: t.system.replace("{subject}", () => subjectName) + first.content };
  return messages;
}
