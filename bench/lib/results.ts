// Benchmark results with their context: machine, date, git revision and BLAS kernels, written to
// bench/results/<name>.json so numbers can be compared across commits and machines.

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { Task } from "tinybench";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  host: string;
}

export function machine(): Machine {
  const c = cpus();
  return { cpu: c[0]?.model ?? "unknown", cores: c.length, memoryGiB: Math.round(totalmem() / 2 ** 30), host: `${process.platform}-${process.arch}` };
}

export function gitRevision(): string {
  const r = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: import.meta.dir, stdout: "pipe", stderr: "pipe" });
  const dirty =
    Bun.spawnSync(["git", "status", "--porcelain"], { cwd: import.meta.dir, stdout: "pipe", stderr: "pipe" })
      .stdout.toString()
      .trim() !== "";
  return r.exitCode === 0 ? r.stdout.toString().trim() + (dirty ? "-dirty" : "") : "unknown";
}

/** Mean seconds per run of a finished tinybench task. */
export function secondsPerRun(task: Task): number {
  const r = task.result as { latency?: { mean: number } } | undefined;
  if (!r?.latency) throw new Error(`benchmark "${task.name}" produced no result`);
  return r.latency.mean / 1000;
}

export function writeResults(name: string, body: Record<string, unknown>): string {
  const dir = join(import.meta.dir, "..", "results");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify({ name, date: new Date().toISOString(), revision: gitRevision(), machine: machine(), ...body }, null, 2)}\n`);
  return path;
}

export function table(rows: Record<string, string | number>[]): string {
  const keys = Object.keys(rows[0] ?? {});
  const w = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(w[i]!)).join(" | ")} |`;
  return [line(keys), `|${w.map((x) => "-".repeat(x + 2)).join("|")}|`, ...rows.map((r) => line(keys.map((k) => String(r[k]))))].join("\n");
}
