// Scoring: accuracy per subject, per category (over questions) and on average from answers a test
// controls, LF's printed lines, and the model scorer (right-padded batches read at each row's own last
// token give the same logits as each prompt alone).
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ok } from "neverthrow";
import { type ChatEncoder, createRegistry, familyByName, loadModel, loadTokenizer, type Message } from "../../../core/index.ts";
import {
  aggregate,
  argmaxChoice,
  type BenchmarkTask,
  choiceTokenIds,
  modelChoiceScorer,
  type Question,
  runBenchmark,
  scoreLines,
  scoreSubject,
  storeMetrics,
  writeResults,
} from "../../../plugins/benchmark/index.ts";
import { makeTiny } from "../../../plugins/commands/index.ts";
import { builtinPlugins } from "../../../plugins/index.ts";
import { fixtureTokenizer } from "../../core/data/helpers/tokenizer.ts";

const q = (question: string, answer: "A" | "B" | "C" | "D"): Question => ({ question, A: "a", B: "b", C: "c", D: "d", answer });

/** An encoder whose prompt ids are the char codes of the last question's text (what the fake model reads). */
const charEncoder = {
  name: "chars",
  encodeOneturn: (messages: readonly Message[]) => ok([[...messages[messages.length - 2]!.content].map((c) => c.codePointAt(0)!), []]),
} as unknown as ChatEncoder;

/** A "model" that answers from a table keyed by the question (the text before the first newline). */
function tableScorer(answers: Record<string, "A" | "B" | "C" | "D">) {
  return (prompts: readonly (readonly number[])[]) =>
    prompts.map((p) => {
      const text = String.fromCodePoint(...p);
      const question = text.includes("\n\n") ? text.slice(text.lastIndexOf("\n\n") + 2) : text;
      const key = question.split("\n")[0]!;
      const letter = answers[key] ?? "A";
      return ["A", "B", "C", "D"].map((l) => (l === letter ? 2 : 1));
    });
}

describe("accuracy arithmetic", () => {
  // STEM: algebra 3/4 + physics 1/2 = 4/6; Humanities: law 0/3; Other: cooking 2/2; Average 6/11.
  const task: BenchmarkTask = {
    task: "toy_test",
    folder: "toy",
    split: "test",
    dir: "/nowhere",
    subjects: [
      { key: "algebra", name: "algebra", category: "STEM", dev: [q("dev1", "A")], questions: [q("a1", "A"), q("a2", "B"), q("a3", "C"), q("a4", "D")] },
      { key: "law", name: "law", category: "Humanities", dev: [], questions: [q("l1", "B"), q("l2", "C"), q("l3", "D")] },
      { key: "physics", name: "physics", category: "STEM", dev: [], questions: [q("p1", "A"), q("p2", "C")] },
      { key: "cooking", name: "cooking", category: "Other", dev: [], questions: [q("c1", "D"), q("c2", "B")] },
    ],
  };
  const answers = { a1: "A", a2: "B", a3: "C", a4: "A", l1: "A", l2: "A", l3: "A", p1: "B", p2: "C", c1: "D", c2: "B" } as const;

  test("per subject, per category over questions, on average; LF's order and line format", async () => {
    const seen: number[] = [];
    const r = (
      await runBenchmark(task, charEncoder, tableScorer(answers), { nShot: 1, lang: "en", batchSize: 3, shuffle: false, seed: 42 }, (p) => seen.push(p.done))
    )._unsafeUnwrap();
    expect(r.subjects.map((s) => [s.key, s.correct, s.total, s.predictions.join("")])).toEqual([
      ["algebra", 3, 4, "ABCA"],
      ["law", 0, 3, "AAA"],
      ["physics", 1, 2, "BC"],
      ["cooking", 2, 2, "DB"],
    ]);
    expect([...r.categories].map(([c, t]) => [c, t.correct, t.total])).toEqual([
      ["Average", 6, 11],
      ["STEM", 4, 6],
      ["Humanities", 0, 3],
      ["Other", 2, 2],
    ]);
    expect(r.categories.get("STEM")!.accuracy).toBeCloseTo(66.6667, 3);
    // Social Sciences has no questions: not printed, as LF skips empty categories.
    expect(scoreLines(r)).toBe(["        Average: 54.55", "           STEM: 66.67", "     Humanities: 0.00", "          Other: 100.00"].join("\n"));
    // Batches of 3 within each subject: 3, 4 | 7 | 9 | 11.
    expect(seen).toEqual([3, 4, 7, 9, 11]);
    const m = storeMetrics("toy_test", r);
    expect(m["toy_test/Average"]).toBeCloseTo((100 * 6) / 11, 10);
    expect(m["toy_test/subject/physics"]).toBe(50);
  });

  test("a category LF does not list comes after LF's, in first-seen order", () => {
    const r = aggregate([
      scoreSubject({ key: "x", name: "x", category: "China specific", questions: [q("1", "A")] }, ["A"]),
      scoreSubject({ key: "y", name: "y", category: "STEM", questions: [q("1", "A"), q("2", "B")] }, ["B", "B"]),
    ]);
    expect([...r.categories.keys()]).toEqual(["Average", "STEM", "China specific"]);
    expect(r.categories.get("Average")).toEqual({ correct: 2, total: 3, accuracy: (100 * 2) / 3 });
  });

  test("eval_results.json, LF's results.json and results.log", () => {
    const dir = mkdtempSync(join(tmpdir(), "lft-bench-"));
    try {
      const r = aggregate([scoreSubject({ key: "s", name: "S", category: "Other", questions: [q("1", "A"), q("2", "C")] }, ["A", "B"])]);
      const header = { task: "t_val", model: "/m", adapter: null, template: "empty", lang: "en", nShot: 0, shuffle: false, seed: 42 };
      writeResults(dir, header, r);
      const full = JSON.parse(readFileSync(join(dir, "eval_results.json"), "utf8"));
      expect(full.average).toBe(50);
      expect(full.subjects.s).toEqual({ name: "S", category: "Other", correct: 1, total: 2, accuracy: 50, predictions: "AB" });
      expect(JSON.parse(readFileSync(join(dir, "results.json"), "utf8"))).toEqual({ s: { "0": "A", "1": "B" } });
      expect(readFileSync(join(dir, "results.log"), "utf8")).toBe("        Average: 50.00\n          Other: 50.00");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("argmax takes the first of equal scores (torch.argmax)", () => {
    expect(argmaxChoice([1, 3, 3, 0])).toBe("B");
    expect(argmaxChoice([-1, -2, -3, -0.5])).toBe("D");
  });
});

describe("the model scorer", () => {
  test("choice ids: the last id of each letter encoded without special tokens", async () => {
    const tok = await fixtureTokenizer("llama3");
    const ids = choiceTokenIds(tok);
    expect(ids).toEqual(["A", "B", "C", "D"].map((l) => tok.encode(l, { addSpecialTokens: false }).at(-1)!));
    expect(ids.map((id) => tok.decode([id]))).toEqual(["A", "B", "C", "D"]);
  });

  test("a right-padded batch gives each prompt the logits it gets alone", () => {
    const registry = createRegistry();
    for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
    const dir = mkdtempSync(join(tmpdir(), "lft-bench-model-"));
    try {
      const family = familyByName(registry, "llama")._unsafeUnwrap();
      makeTiny(family, dir, { seed: 3 })._unsafeUnwrap();
      const { model } = loadModel(dir, registry, { dtype: "f32" })._unsafeUnwrap();
      const tok = loadTokenizer(dir)._unsafeUnwrap();
      const choices = choiceTokenIds(tok);
      const scorer = modelChoiceScorer(model, model.parameters()[0]!.backend, 0, choices);
      const prompts = ["Question one?\nAnswer:", "A much longer question, with more tokens in it than the first.\nAnswer:", "Q3\nAnswer:"].map((t) =>
        tok.encode(t),
      );
      const batched = scorer(prompts);
      prompts.forEach((p, i) => {
        const alone = scorer([p])[0]!;
        // Same math on rows of different padded length: equal to f32 rounding (1e-4 absolute).
        for (let j = 0; j < alone.length; j++) expect(Math.abs(alone[j]! - batched[i]![j]!)).toBeLessThan(1e-4);
      });
      // The scores differ between prompts (the position read is each row's own, not the batch's last).
      expect(batched[0]).not.toEqual(batched[2]);
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
