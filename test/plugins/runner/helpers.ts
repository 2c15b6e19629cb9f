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

/** Writes `text` to dir/name and runs `lft name` there. */
export async function lft(dir: string, name: string, text: string): Promise<LftRun> {
  writeFileSync(join(dir, name), text);
  const io = captureIO(dir);
  const code = await main([name], io);
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
