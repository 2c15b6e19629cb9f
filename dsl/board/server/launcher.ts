// Runs launched from the board: each is an ordinary recipe run, a child `lft` process (the repo's
// entry script) on the recipe file, with the board's store (LFT_HOME) and working folder. The run
// the child records is found in the store by the child's pid. Stop = SIGINT, the same graceful
// stop as Ctrl-C; closing the board stops its children and waits a few seconds for them.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord, RunStore } from "../../../core/index.ts";
import { repoRoot } from "./info";

export interface Launch {
  /** The board's handle: `board-<time>-<random>`; the recipe is saved as board/recipes/<id>.lft. */
  readonly id: string;
  readonly pid: number;
  readonly startedAt: number;
  /** The saved copy under the store's folder. */
  readonly recipePath: string;
  /** The child's stdout and stderr, line by line (the newest lines are kept). */
  readonly log: string[];
  /** Lines dropped from the front of `log` so far (so a reader can follow it by index). */
  dropped: number;
  exitCode: number | null;
  readonly exited: Promise<number>;
  readonly kill: (signal: NodeJS.Signals) => void;
}

const keptLines = 5000;

export interface LauncherOptions {
  /** LFT_HOME of the board's store: children record their runs there. */
  readonly home: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The command that runs `lft` (default: the repo's `lft` script). */
  readonly lft?: readonly string[];
}

function launchId(): string {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `board-${d}-${Math.random().toString(36).slice(2, 8)}`;
}

export class Launcher {
  readonly launches = new Map<string, Launch>();

  constructor(readonly options: LauncherOptions) {}

  /**
   * Saves the recipe and starts `lft` on it. The run reads it from a copy in the working folder,
   * `<id>.lft`, so its relative paths mean what they meant in the board's form (as in the REPL) and a
   * train block without an output writes to runs/<id>; the copy is removed when the child ends.
   */
  launch(text: string): Launch {
    const id = launchId();
    const recipes = join(this.options.home, "board", "recipes");
    mkdirSync(recipes, { recursive: true });
    const recipePath = join(recipes, `${id}.lft`);
    writeFileSync(recipePath, text);
    const runFile = join(this.options.cwd, `${id}.lft`);
    writeFileSync(runFile, text);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.options.env)) if (v !== undefined) env[k] = v;
    env.LFT_HOME = this.options.home;
    const child = Bun.spawn([...(this.options.lft ?? [join(repoRoot, "lft")]), "run", `${id}.lft`], {
      cwd: this.options.cwd,
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const log: string[] = [];
    const launch: Launch = {
      id,
      pid: child.pid,
      startedAt: Date.now(),
      recipePath,
      log,
      dropped: 0,
      exitCode: null,
      exited: child.exited.then((code) => {
        launch.exitCode = code;
        rmSync(runFile, { force: true });
        return code;
      }),
      kill: (signal) => {
        if (launch.exitCode === null) child.kill(signal);
      },
    };
    const push = (line: string): void => {
      log.push(line);
      if (log.length > keptLines) launch.dropped += log.splice(0, log.length - keptLines).length;
    };
    void collectLines(child.stdout, push);
    void collectLines(child.stderr, push);
    this.launches.set(id, launch);
    return launch;
  }

  /** SIGINT: the run stops after its current step, saves a checkpoint and ends "interrupted". */
  stop(id: string): boolean {
    const launch = this.launches.get(id);
    if (launch === undefined || launch.exitCode !== null) return false;
    launch.kill("SIGINT");
    return true;
  }

  /** The runs a launch's child recorded, oldest first. */
  runsOf(launch: Launch, store: RunStore): RunRecord[] {
    return store
      .listRuns(200)
      .filter((r) => r.pid === launch.pid && r.startedAt >= launch.startedAt - 5000)
      .sort((a, b) => a.startedAt - b.startedAt);
  }

  /** The launch that recorded a store run, if the board started it. */
  launchOfRun(run: RunRecord): Launch | undefined {
    for (const l of this.launches.values()) if (run.pid === l.pid && run.startedAt >= l.startedAt - 5000) return l;
    return undefined;
  }

  /** Stops every child still running (SIGINT), waits up to `graceMs`, then kills what is left. */
  async shutdown(graceMs = 5000): Promise<void> {
    const running = [...this.launches.values()].filter((l) => l.exitCode === null);
    if (running.length === 0) return;
    for (const l of running) l.kill("SIGINT");
    const all = Promise.all(running.map((l) => l.exited));
    if (!(await settlesWithin(all, graceMs))) {
      for (const l of running) l.kill("SIGKILL");
      await settlesWithin(all, 1000);
    }
  }
}

/** Whether the promise settles within `ms`; the timer never outlives the wait. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Splits a stream into lines (progress bars redraw with \r: each redraw is a line). */
async function collectLines(stream: ReadableStream<Uint8Array>, push: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    const parts = rest.split(/\r\n|\r|\n/);
    rest = parts.pop() ?? "";
    for (const p of parts) if (p.trim() !== "") push(p);
  }
  if (rest.trim() !== "") push(rest);
}
