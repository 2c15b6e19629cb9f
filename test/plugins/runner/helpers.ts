// Shared by the runner tests: the shipped model and identity data, a scratch folder per test file,
// and `lft` run in-process (the real CLI entry and the built-in plugins) with its output captured.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { CommandIO } from "../../../core/index.ts";
import { main } from "../../../dsl/cli.ts";

export const REPO = resolve(import.meta.dir, "../../..");
export const STORIES = join(REPO, "examples/models/stories260K");
export const IDENTITY = join(REPO, "examples/data/identity.json");

export interface Captured extends CommandIO {
  readonly out: () => string;
  readonly err: () => string;
}

export function captureIO(cwd: string): Captured {
  let out = "";
  let err = "";
  return {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    cwd,
    out: () => out,
    err: () => err,
  };
}

export function scratch(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lft-runner-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface LftRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs `fn` with the run store in the working folder's `.lft/` (a project's own store, LFT_HOME=.lft),
 * so a test reads its runs from `<dir>/.lft/runs.sqlite` without the other test files' runs.
 */
export async function withProjectStore<T>(fn: () => Promise<T>): Promise<T> {
  const before = process.env.LFT_HOME;
  process.env.LFT_HOME = ".lft";
  try {
    return await fn();
  } finally {
    process.env.LFT_HOME = before;
  }
}

/** Writes `text` to dir/name and runs `lft name` there (with the project's own run store). */
export async function lft(dir: string, name: string, text: string): Promise<LftRun> {
  writeFileSync(join(dir, name), text);
  const io = captureIO(dir);
  const code = await withProjectStore(() => main([name], io));
  return { code, out: io.out(), err: io.err() };
}

/** The answer printed after each `> prompt` line of a chat action. */
export function chatAnswers(out: string, prompt: string): string[] {
  const lines = out.split("\n");
  return lines.flatMap((line, i) => (line === `> ${prompt}` ? [lines[i + 1] ?? ""] : []));
}

/** The loss of each `eval ...: loss X` line. */
export function evalLosses(out: string): number[] {
  return [...out.matchAll(/^eval .*: loss ([\d.]+)/gm)].map((m) => Number(m[1]));
}
