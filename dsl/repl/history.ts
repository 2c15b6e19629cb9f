// REPL history on disk: one input line per line of the file, appended as it is typed (so nothing is
// lost when the terminal dies), read back most recent first for readline.

import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const historyLimit = 1000;

/** `LFT_HISTORY` when set (tests point it at a temp file), else ~/.lft_history. */
export function historyPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.LFT_HISTORY ?? join(homedir(), ".lft_history");
}

/** Most recent first, as readline's `history` option wants. Unreadable history is no history. */
export function loadHistory(path: string): string[] {
  if (!existsSync(path)) return [];
  try {
    const lines = readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "");
    return lines.slice(-historyLimit).reverse();
  } catch {
    return [];
  }
}

/** Returns false when the file cannot be written (the REPL then says so once and carries on). */
export function appendHistory(path: string, line: string): boolean {
  if (line.trim() === "") return true;
  try {
    appendFileSync(path, `${line.replace(/\n/g, " ")}\n`);
    return true;
  } catch {
    return false;
  }
}
