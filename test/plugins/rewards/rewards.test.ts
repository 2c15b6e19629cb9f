// The built-in reward functions on hand-written completions, and their registration (options checked).
import { expect, test } from "bun:test";
import { createRegistry, type RewardInput, validateOptions } from "../../../core/index.ts";
import rewardsPlugin, { exactMatchReward, extractAnswer, lengthReward, lengthScore, regexReward } from "../../../plugins/rewards/index.ts";

const input = (completions: string[], reference = "", tokens?: number[]): RewardInput => ({
  prompt: "Q",
  completions,
  completionTokens: tokens ?? completions.map((c) => c.length),
  reference,
});
const opts = (entry: typeof exactMatchReward, o: Record<string, unknown>) => validateOptions(entry.options ?? {}, o, entry.name)._unsafeUnwrap();

test("exact_match compares the completion's answer with the reference", () => {
  const c = [" Paris.\nMore text", "paris", "Lyon", " The answer: Paris", ""];
  expect(exactMatchReward.score(input(c, "Paris"), opts(exactMatchReward, {}))).toEqual([1, 1, 0, 0, 0]);
  expect(exactMatchReward.score(input(c, "Paris"), opts(exactMatchReward, { ignore_case: false }))).toEqual([1, 0, 0, 0, 0]);
  expect(exactMatchReward.score(input(c, "Paris"), opts(exactMatchReward, { answer_from: "all" }))).toEqual([0, 1, 0, 0, 0]);
  expect(exactMatchReward.score(input(c, "Paris"), opts(exactMatchReward, { answer_from: "after_marker" }))).toEqual([0, 0, 0, 1, 0]);
  expect(exactMatchReward.score(input(["boy. He", "boys", " boy"], "boy"), opts(exactMatchReward, { answer_from: "first_word" }))).toEqual([1, 0, 1]);
  // An empty reference matches nothing (a row without an answer gives no reward).
  expect(exactMatchReward.score(input(["", "x"], ""), opts(exactMatchReward, { answer_from: "all" }))).toEqual([0, 0]);
  expect(extractAnswer("  42!! ", "all", "answer:", true)).toBe("42");
});

test("regex scores a format check", () => {
  const c = ["<think>a</think> 4", "4", "<THINK>x</THINK>"];
  expect(regexReward.score(input(c), opts(regexReward, { pattern: "<think>.*</think>" }))).toEqual([1, 0, 0]);
  expect(regexReward.score(input(c), opts(regexReward, { pattern: "<think>.*</think>", ignore_case: true }))).toEqual([1, 0, 1]);
  expect(regexReward.score(input(c), opts(regexReward, { pattern: "\\d", full: true }))).toEqual([0, 1, 0]);
  expect(() => regexReward.score(input(c), opts(regexReward, { pattern: "(" }))).toThrow("is not a regular expression");
  expect(validateOptions(regexReward.options!, {}, "regex").isErr()).toBe(true);
});

test("length scores closeness to a target", () => {
  expect(lengthScore(10, 10, 0)).toBe(1);
  expect(lengthScore(11, 10, 0)).toBe(0);
  expect(lengthScore(12, 10, 4)).toBe(0.5);
  expect(lengthScore(20, 10, 4)).toBe(0);
  expect(lengthReward.score(input(["abc", "abcdef"], "", [4, 8]), opts(lengthReward, { target: 4, tolerance: 4 }))).toEqual([1, 0]);
  expect(lengthReward.score(input(["abc", "abcdef"], "", [4, 8]), opts(lengthReward, { target: 4, tolerance: 4, unit: "chars" }))).toEqual([0.75, 0.5]);
});

test("the plugin registers the three rewards in the rewards collection", () => {
  const registry = createRegistry();
  registry.use(rewardsPlugin);
  expect(
    registry
      .list("rewards")
      .map((e) => e.name)
      .sort(),
  ).toEqual(["exact_match", "length", "regex"]);
});
