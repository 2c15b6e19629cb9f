// Reading a task in LLaMA-Factory's layout (the MMLU sample), the CSV reader, and bad input: a missing
// mapping.json or subject file, a malformed row (column count, answer not A-D, an unclosed quote) is
// an error naming file:line; a bad task name says what a task is.
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTask, parseCsv, parseTaskName } from "../../../plugins/benchmark/index.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures");
const work = mkdtempSync(join(tmpdir(), "lft-bench-task-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the MMLU sample under work/<name>/mmlu, for a test to break. */
function copy(name: string): string {
  const root = join(work, name);
  cpSync(join(FIXTURES, "mmlu"), join(root, "mmlu"), { recursive: true });
  return root;
}

describe("the MMLU sample", () => {
  test("subjects in mapping.json's order with names and categories; dev is the support set", () => {
    const t = loadTask(FIXTURES, "mmlu_test")._unsafeUnwrap();
    expect(t.split).toBe("test");
    expect(t.subjects.map((s) => [s.key, s.name, s.category, s.dev.length, s.questions.length])).toEqual([
      ["abstract_algebra", "abstract algebra", "STEM", 5, 100],
      ["high_school_biology", "high school biology", "STEM", 5, 310],
      ["world_religions", "world religions", "Humanities", 5, 171],
    ]);
    // A quoted field with a comma inside, as the first dev file's second row has.
    const second = t.subjects[0]!.dev[1]!;
    expect(second.question).toBe(
      "Statement 1 | If aH is an element of a factor group, then |aH| divides |a|. Statement 2 | If H and K are subgroups of G then HK is a subgroup of G.",
    );
    expect([second.A, second.B, second.answer]).toEqual(["True, True", "False, False", "B"]);
    expect(
      loadTask(FIXTURES, "mmlu_val")
        ._unsafeUnwrap()
        .subjects.map((s) => s.questions.length),
    ).toEqual([11, 32, 19]);
    // LF's datasets name the val split "validation".
    expect(loadTask(FIXTURES, "mmlu_validation")._unsafeUnwrap().split).toBe("val");
  });
});

describe("csv", () => {
  test("quotes, doubled quotes, newlines inside quotes, CRLF, a BOM, blank lines; records keep their start line", () => {
    const recs = parseCsv('\uFEFFa,"b ""c""",d\r\n\r\n"multi\nline",x,\ny,"",z')._unsafeUnwrap();
    expect(recs).toEqual([
      { line: 1, fields: ["a", 'b "c"', "d"] },
      { line: 3, fields: ["multi\nline", "x", ""] },
      { line: 5, fields: ["y", "", "z"] },
    ]);
  });
  test("an unclosed quote names the line it opened on", () => {
    expect(parseCsv('a,b\nc,"d\ne\n')._unsafeUnwrapErr()).toEqual({ line: 2, message: "a quoted field is never closed" });
  });
});

describe("bad input names file:line", () => {
  test("a task name without a split, or with another split", () => {
    expect(parseTaskName("mmlu")._unsafeUnwrapErr().message).toBe('task "mmlu": expected <folder>_<split> with split test or val (e.g. mmlu_test, cmmlu_val)');
    expect(parseTaskName("mmlu_dev").isErr()).toBe(true);
    expect(parseTaskName("my_bench_val")._unsafeUnwrap()).toEqual({ folder: "my_bench", split: "val" });
  });
  test("no task folder; no mapping.json; mapping.json not JSON or without names", () => {
    expect(loadTask(work, "nothing_test")._unsafeUnwrapErr().message).toContain(`${join(work, "nothing")}: no such task folder`);
    const a = copy("nomap");
    rmSync(join(a, "mmlu", "mapping.json"));
    expect(loadTask(a, "mmlu_test")._unsafeUnwrapErr().message).toBe(
      `${join(a, "mmlu", "mapping.json")}: not found; a task folder holds mapping.json (subject -> {"name", "category"}) beside data/`,
    );
    writeFileSync(join(a, "mmlu", "mapping.json"), "{ not json");
    expect(loadTask(a, "mmlu_test")._unsafeUnwrapErr().message).toStartWith(`${join(a, "mmlu", "mapping.json")}: not valid JSON`);
    writeFileSync(join(a, "mmlu", "mapping.json"), JSON.stringify({ anatomy: { name: "anatomy" } }));
    expect(loadTask(a, "mmlu_test")._unsafeUnwrapErr().message).toBe(
      `${join(a, "mmlu", "mapping.json")}: subject "anatomy" needs string "name" and "category" fields`,
    );
    writeFileSync(join(a, "mmlu", "mapping.json"), JSON.stringify({ "../../etc/passwd": { name: "x", category: "Other" } }));
    expect(loadTask(a, "mmlu_test")._unsafeUnwrapErr().message).toContain("is not a plain file stem");
  });
  test("a subject file mapping.json lists is missing", () => {
    const a = copy("nofile");
    rmSync(join(a, "mmlu", "data", "test", "world_religions_test.csv"));
    expect(loadTask(a, "mmlu_test")._unsafeUnwrapErr().message).toBe(
      `${join(a, "mmlu", "data", "test", "world_religions_test.csv")}: not found (mapping.json lists this subject)`,
    );
  });
  test("a row with the wrong column count, an answer other than A-D, an unclosed quote", () => {
    const a = copy("badrows");
    const file = join(a, "mmlu", "data", "val", "abstract_algebra_val.csv");
    writeFileSync(file, 'q1,a,b,c,d,A\n"q2\nspans lines",a,b,c,d,B\nq3,a,b,c,D\n');
    expect(loadTask(a, "mmlu_val")._unsafeUnwrapErr().message).toBe(`${file}:4: expected 6 columns (question, A, B, C, D, answer), found 5`);
    writeFileSync(file, "q1,a,b,c,d,A\nq2,a,b,c,d,E\n");
    expect(loadTask(a, "mmlu_val")._unsafeUnwrapErr().message).toBe(`${file}:2: the answer must be one of A, B, C, D, found "E"`);
    writeFileSync(file, 'q1,a,b,c,d,A\nq2,"a,b,c,d,A\n');
    expect(loadTask(a, "mmlu_val")._unsafeUnwrapErr().message).toBe(`${file}:2: a quoted field is never closed`);
  });
});
