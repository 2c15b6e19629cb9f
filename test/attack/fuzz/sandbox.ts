// Runs `./lft` on fuzzed inputs inside a sandbox folder and tells what it changed: the whole tree is
// fingerprinted (path, kind, size, content hash) before and after, so a file written, removed or
// altered anywhere but the allowed folders is caught. HOME and LFT_HOME point into the sandbox.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export const REPO_ROOT = join(import.meta.dir, "../../..");

export type Tree = Map<string, string>;

export function fingerprint(root: string): Tree {
  const out: Tree = new Map();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const rel = relative(root, path);
      if (st.isDirectory()) {
        out.set(rel, "dir");
        walk(path);
      } else if (st.isFile()) out.set(rel, `file ${st.size} ${createHash("sha1").update(readFileSync(path)).digest("hex")}`);
      else out.set(rel, st.isSymbolicLink() ? "link" : "special");
    }
  };
  walk(root);
  return out;
}

/** Paths added, removed or changed between two fingerprints, outside the `allowed` folders (relative). */
export function changedOutside(before: Tree, after: Tree, allowed: readonly string[]): string[] {
  const inside = (p: string) => allowed.some((a) => p === a || p.startsWith(`${a}/`));
  const changed: string[] = [];
  for (const [p, v] of after) if (before.get(p) !== v && !inside(p)) changed.push(`${before.has(p) ? "changed" : "added"} ${p}`);
  for (const p of before.keys()) if (!after.has(p) && !inside(p)) changed.push(`removed ${p}`);
  return changed;
}

export interface LftRun {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

/** `./lft argv` in `cwd` with the sandbox's HOME, killed after `timeoutMs`. */
export async function runLft(argv: readonly string[], cwd: string, home: string, timeoutMs = 30_000): Promise<LftRun> {
  const start = performance.now();
  const proc = Bun.spawn([join(REPO_ROOT, "lft"), ...argv], {
    cwd,
    env: { ...process.env, HOME: home, LFT_HOME: join(home, "lft"), XDG_DATA_HOME: join(home, "xdg"), NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeoutMs);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(timer);
  return { code: proc.exitCode, signal: proc.signalCode === null ? null : String(proc.signalCode), stdout, stderr, ms: performance.now() - start, timedOut };
}

/** A JavaScript stack trace ("    at f (file:1:2)") reaching the user. */
export const STACK_TRACE = /\n\s+at .+:\d+(:\d+)?\)?\n/;
