// Is the process that claimed a run still alive? pid alone is not enough (pids are reused), so on
// Linux the process's start time from /proc/<pid>/stat is recorded too and must still match.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

export interface ProcessId {
  readonly pid: number;
  readonly host: string;
  /** Start time in clock ticks since boot (Linux), or null where /proc is absent. */
  readonly start: string | null;
}

function startTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22; the command name (field 2) may hold spaces, so count from its closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

export function thisProcess(): ProcessId {
  return { pid: process.pid, host: hostname(), start: startTicks(process.pid) };
}

/** true: alive; false: gone; null: cannot tell (another host). */
export function processAlive(p: { pid: number | null; host: string | null; start: string | null }): boolean | null {
  if (p.pid === null || p.host !== hostname()) return null;
  try {
    process.kill(p.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (p.start === null) return true;
  return startTicks(p.pid) === p.start;
}
