// A benchmark task in LLaMA-Factory's evaluation layout: `<task_dir>/<name>/mapping.json` (subject ->
// display name and category) and `data/{dev,val,test}/<subject>_<split>.csv` (no header: question,
// A, B, C, D, answer). MMLU, C-Eval and CMMLU all ship this way. `dev` is the k-shot support set.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { parseCsv } from "./csv.ts";

export const CHOICES = ["A", "B", "C", "D"] as const;
export type Choice = (typeof CHOICES)[number];

export interface Question {
  readonly question: string;
  readonly A: string;
  readonly B: string;
  readonly C: string;
  readonly D: string;
  readonly answer: Choice;
}

export interface Subject {
  /** The key in mapping.json and the CSV file stem. */
  readonly key: string;
  /** Display name, used in the system line ("... about {name}."). */
  readonly name: string;
  readonly category: string;
  readonly dev: readonly Question[];
  readonly questions: readonly Question[];
}

export interface BenchmarkTask {
  /** `<folder>_<split>` as given. */
  readonly task: string;
  readonly folder: string;
  /** The CSV folder the questions come from: test or val. */
  readonly split: "test" | "val";
  readonly dir: string;
  readonly subjects: readonly Subject[];
}

export class BenchmarkError extends Error {
  override name = "BenchmarkError";
}

/** Files larger than this are refused before they are read (MMLU's largest subject CSV is under 1 MB). */
export const MAX_CSV_BYTES = 64 * 1024 * 1024;

/** `mmlu_test` -> folder mmlu, split test. The split is after the last `_` (LF's `validation` means val). */
export function parseTaskName(task: string): Result<{ folder: string; split: "test" | "val" }, BenchmarkError> {
  const at = task.lastIndexOf("_");
  const folder = at > 0 ? task.slice(0, at) : "";
  const raw = at > 0 ? task.slice(at + 1) : "";
  const split = raw === "validation" ? "val" : raw;
  if (folder === "" || (split !== "test" && split !== "val"))
    return err(new BenchmarkError(`task "${task}": expected <folder>_<split> with split test or val (e.g. mmlu_test, cmmlu_val)`));
  return ok({ folder, split });
}

function readMapping(file: string): Result<{ key: string; name: string; category: string }[], BenchmarkError> {
  if (!existsSync(file)) return err(new BenchmarkError(`${file}: not found; a task folder holds mapping.json (subject -> {"name", "category"}) beside data/`));
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    return err(new BenchmarkError(`${file}: not valid JSON (${(e as Error).message})`));
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    return err(new BenchmarkError(`${file}: expected an object of subject -> {"name", "category"}`));
  const out = [];
  for (const [key, v] of Object.entries(parsed)) {
    const entry = v as { name?: unknown; category?: unknown } | null;
    if (entry === null || typeof entry !== "object" || typeof entry.name !== "string" || typeof entry.category !== "string")
      return err(new BenchmarkError(`${file}: subject "${key}" needs string "name" and "category" fields`));
    if (!/^[A-Za-z0-9_.-]+$/.test(key)) return err(new BenchmarkError(`${file}: subject "${key}" is not a plain file stem (letters, digits, _ . -)`));
    out.push({ key, name: entry.name, category: entry.category });
  }
  if (out.length === 0) return err(new BenchmarkError(`${file}: lists no subjects`));
  return ok(out);
}

/** The questions of one CSV; a row with the wrong column count or an answer other than A-D names its file:line. */
export function readQuestions(file: string): Result<Question[], BenchmarkError> {
  if (!existsSync(file)) return err(new BenchmarkError(`${file}: not found (mapping.json lists this subject)`));
  const size = statSync(file).size;
  if (size > MAX_CSV_BYTES) return err(new BenchmarkError(`${file}: ${size} bytes, over the ${MAX_CSV_BYTES}-byte limit for one subject file`));
  const records = parseCsv(readFileSync(file, "utf8"));
  if (records.isErr()) return err(new BenchmarkError(`${file}:${records.error.line}: ${records.error.message}`));
  const out: Question[] = [];
  for (const r of records.value) {
    if (r.fields.length !== 6) return err(new BenchmarkError(`${file}:${r.line}: expected 6 columns (question, A, B, C, D, answer), found ${r.fields.length}`));
    const [question, A, B, C, D, answer] = r.fields as [string, string, string, string, string, string];
    const letter = answer.trim();
    if (!(CHOICES as readonly string[]).includes(letter))
      return err(new BenchmarkError(`${file}:${r.line}: the answer must be one of A, B, C, D, found "${answer}"`));
    out.push({ question, A, B, C, D, answer: letter as Choice });
  }
  return ok(out);
}

/** Reads a whole task: mapping.json and, per subject, its dev and split CSVs. */
export function loadTask(taskDir: string, task: string): Result<BenchmarkTask, BenchmarkError> {
  const name = parseTaskName(task);
  if (name.isErr()) return err(name.error);
  const { folder, split } = name.value;
  const dir = join(taskDir, folder);
  if (!existsSync(dir)) return err(new BenchmarkError(`${dir}: no such task folder (--task-dir ${taskDir}, task ${task})`));
  const mapping = readMapping(join(dir, "mapping.json"));
  if (mapping.isErr()) return err(mapping.error);
  const subjects: Subject[] = [];
  for (const m of mapping.value) {
    const dev = readQuestions(join(dir, "data", "dev", `${m.key}_dev.csv`));
    if (dev.isErr()) return err(dev.error);
    const questions = readQuestions(join(dir, "data", split, `${m.key}_${split}.csv`));
    if (questions.isErr()) return err(questions.error);
    subjects.push({ ...m, dev: dev.value, questions: questions.value });
  }
  return ok({ task, folder, split, dir, subjects });
}
