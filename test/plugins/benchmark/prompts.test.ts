// LLaMA-Factory's eval prompts: the messages equal LF's own test strings (tests/eval/test_eval_template.py,
// en and zh), and the prompt ids a template gives them equal, token for token, the ids LF's template
// produces, derived here independently: LF encodes each slot string with the tokenizer (special tokens
// split out as added tokens) and concatenates; the pieces below are copied from LF's template.py.
import { describe, expect, test } from "bun:test";
import type { Message, Tokenizer } from "../../../core/index.ts";
import { EVAL_TEMPLATES, formatExample, type Question, subjectPrompts, supportSet } from "../../../plugins/benchmark/index.ts";
import { dataRegistry } from "../../core/data/helpers/registry.ts";
import { fixtureTokenizer } from "../../core/data/helpers/tokenizer.ts";

const q = (question: string, A: string, B: string, C: string, D: string, answer: "A" | "B" | "C" | "D"): Question => ({ question, A, B, C, D, answer });

describe("messages (LF's test_eval_template)", () => {
  test("en", () => {
    const support = [q("Fewshot question", "Fewshot1", "Fewshot2", "Fewshot3", "Fewshot4", "B")];
    const target = q("Target question", "Target1", "Target2", "Target3", "Target4", "C");
    expect(formatExample(EVAL_TEMPLATES.en, target, support, "SubName")).toEqual([
      {
        role: "user",
        content:
          "The following are multiple choice questions (with answers) about SubName.\n\n" +
          "Fewshot question\nA. Fewshot1\nB. Fewshot2\nC. Fewshot3\nD. Fewshot4\nAnswer:",
      },
      { role: "assistant", content: "B" },
      { role: "user", content: "Target question\nA. Target1\nB. Target2\nC. Target3\nD. Target4\nAnswer:" },
      { role: "assistant", content: "C" },
    ]);
  });

  test("zh", () => {
    const support = [q("示例问题", "示例答案1", "示例答案2", "示例答案3", "示例答案4", "B")];
    const target = q("目标问题", "目标答案1", "目标答案2", "目标答案3", "目标答案4", "C");
    expect(formatExample(EVAL_TEMPLATES.zh, target, support, "主题")).toEqual([
      {
        role: "user",
        content: "以下是中国关于主题考试的单项选择题，请选出其中的正确答案。\n\n示例问题\nA. 示例答案1\nB. 示例答案2\nC. 示例答案3\nD. 示例答案4\n答案：",
      },
      { role: "assistant", content: "B" },
      { role: "user", content: "目标问题\nA. 目标答案1\nB. 目标答案2\nC. 目标答案3\nD. 目标答案4\n答案：" },
      { role: "assistant", content: "C" },
    ]);
  });

  test("zero-shot: the system line goes on the target question; text with $& stays text", () => {
    const target = q("Cost $& more?", "$1", "$'", "x", "y", "A");
    expect(formatExample(EVAL_TEMPLATES.en, target, [], "$& money")).toEqual([
      {
        role: "user",
        content: "The following are multiple choice questions (with answers) about $& money.\n\nCost $& more?\nA. $1\nB. $'\nC. x\nD. y\nAnswer:",
      },
      { role: "assistant", content: "A" },
    ]);
  });
});

describe("k-shot support set", () => {
  const dev = [0, 1, 2, 3, 4].map((i) => q(`d${i}`, "a", "b", "c", "d", "A"));
  test("default: the first k dev rows, the same for every question; k is capped by the dev set", () => {
    expect(supportSet(dev, 3, false, 42, 0).map((d) => d.question)).toEqual(["d0", "d1", "d2"]);
    expect(supportSet(dev, 3, false, 42, 7).map((d) => d.question)).toEqual(["d0", "d1", "d2"]);
    expect(supportSet(dev, 9, false, 42, 0)).toHaveLength(5);
    expect(supportSet(dev, 0, false, 42, 0)).toEqual([]);
  });
  test("--shuffle: seeded per question, reproducible, a permutation of dev rows", () => {
    const a = supportSet(dev, 5, true, 42, 3).map((d) => d.question);
    expect(supportSet(dev, 5, true, 42, 3).map((d) => d.question)).toEqual(a);
    expect([...a].sort()).toEqual(["d0", "d1", "d2", "d3", "d4"]);
    const orders = new Set(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
        supportSet(dev, 5, true, 42, i)
          .map((d) => d.question)
          .join(""),
      ),
    );
    expect(orders.size).toBeGreaterThan(1);
    expect(supportSet(dev, 5, true, 7, 3).map((d) => d.question)).not.toEqual(supportSet(dev, 5, true, 8, 3).map((d) => d.question));
  });
});

/** LF's _convert_elements_to_ids for one string slot: encoded without the tokenizer's own specials. */
const piece = (tok: Tokenizer, s: string) => tok.encode(s, { addSpecialTokens: false });

/** LF's llama3 template (template.py): prefix bos_token, user/assistant slots, no default system. */
function llama3Prompt(tok: Tokenizer, messages: readonly Message[]): number[] {
  const ids = [...piece(tok, "<|begin_of_text|>")];
  for (let i = 0; i < messages.length - 1; i++) {
    const m = messages[i]!;
    ids.push(
      ...piece(
        tok,
        m.role === "user"
          ? `<|start_header_id|>user<|end_header_id|>\n\n${m.content}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`
          : `${m.content}<|eot_id|>`,
      ),
    );
  }
  return ids;
}

/** LF's qwen template: the default system (Qwen's line) in its system slot before the first user turn. */
function qwenPrompt(tok: Tokenizer, messages: readonly Message[]): number[] {
  const ids = [...piece(tok, "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n")];
  for (let i = 0; i < messages.length - 1; i++) {
    const m = messages[i]!;
    ids.push(...piece(tok, m.role === "user" ? `<|im_start|>user\n${m.content}<|im_end|>\n<|im_start|>assistant\n` : `${m.content}<|im_end|>\n`));
  }
  return ids;
}

describe("prompt ids equal LF's template, token for token", () => {
  const registry = dataRegistry();
  const dev = [
    q("Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.", "0", "1", "2", "3", "B"),
    q("Statement 1 | Every group is abelian.", "True, True", "False, False", "True, False", "False, True", "B"),
  ];
  const zhDev = [q("下列关于细胞的叙述，正确的是", "细胞膜", "细胞核", "线粒体", "叶绿体", "C")];
  const questions = [q("What is 2 + 2?", "3", "4", "5", "22", "B"), q("Which is prime?", "4", "6", "7", "9", "C")];
  const zhQuestions = [q("光合作用发生在哪里？", "细胞膜", "细胞核", "线粒体", "叶绿体", "D")];

  for (const [template, tokName, derive] of [
    ["llama3", "llama3", llama3Prompt],
    ["qwen", "qwen3", qwenPrompt],
  ] as const) {
    for (const lang of ["en", "zh"] as const) {
      test(`${template} template, ${tokName} tokenizer, ${lang}, 0/1/2-shot`, async () => {
        const tok = await fixtureTokenizer(tokName);
        const encoder = registry.get("templates", template)._unsafeUnwrap().create(tok, {})._unsafeUnwrap();
        const subject = {
          key: "s",
          name: lang === "en" ? "abstract algebra" : "高中生物",
          category: "STEM",
          dev: lang === "en" ? dev : zhDev,
          questions: lang === "en" ? questions : zhQuestions,
        };
        for (const nShot of [0, 1, 2]) {
          const settings = { nShot, lang, batchSize: 4, shuffle: false, seed: 42 };
          const got = subjectPrompts(subject, encoder, settings)._unsafeUnwrap();
          const want = subject.questions.map((target) =>
            derive(tok, formatExample(EVAL_TEMPLATES[lang], target, supportSet(subject.dev, nShot, false, 42, 0), subject.name)),
          );
          expect(got).toEqual(want);
          // The prompt ends where the answer letter would start: the assistant header.
          expect(tok.decode(got[0]!.slice(-4), { skipSpecialTokens: false })).toContain("assistant");
        }
      });
    }
  }

  test("a prompt over the model's context is refused with the question and what to do", async () => {
    const tok = await fixtureTokenizer("llama3");
    const encoder = registry.get("templates", "llama3")._unsafeUnwrap().create(tok, {})._unsafeUnwrap();
    const subject = { key: "algebra", name: "algebra", category: "STEM", dev, questions };
    const r = subjectPrompts(subject, encoder, { nShot: 2, lang: "en", batchSize: 4, shuffle: false, seed: 42, maxPromptTokens: 20 });
    expect(r._unsafeUnwrapErr().message).toMatch(/^algebra question 1: the 2-shot prompt is \d+ tokens, over the model's 20; use a smaller --n-shot$/);
  });
});
