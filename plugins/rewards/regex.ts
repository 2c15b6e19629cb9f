// `regex`: a format check, 1 when a completion matches a pattern (anywhere, or as a whole with
// `full = true`), else 0; TRL's format rewards are this with a pattern such as "<think>.*</think>".
import type { OptionSchema, RewardEntry } from "../../core/index.ts";

export const regexOptions = {
  pattern: { type: "string", required: true, doc: "a JavaScript regular expression the completion should match" },
  full: { type: "boolean", default: false, doc: "the whole completion (trimmed) must match, not just a part" },
  ignore_case: { type: "boolean", default: false, doc: "match without case" },
} as const satisfies OptionSchema;

/** The compiled pattern, or why it does not compile. */
export function compilePattern(pattern: string, full: boolean, ignoreCase: boolean): RegExp | string {
  try {
    return new RegExp(full ? `^(?:${pattern})$` : pattern, `s${ignoreCase ? "i" : ""}`);
  } catch (e) {
    return `pattern ${JSON.stringify(pattern)} is not a regular expression: ${(e as Error).message}`;
  }
}

export const regexReward: RewardEntry = {
  name: "regex",
  doc: "1 when the completion matches `pattern` (a format check), else 0",
  options: regexOptions,
  score(input, o) {
    const full = o.full === true;
    const re = compilePattern(String(o.pattern), full, o.ignore_case === true);
    if (typeof re === "string") throw new Error(`reward regex: ${re}`);
    return input.completions.map((c) => (re.test(full ? c.trim() : c) ? 1 : 0));
  },
};
