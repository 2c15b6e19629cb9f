// The REPL as a person uses it, through a real pseudo-terminal (tmux): tab completion, a multi-line
// block, a mistake that does not end the session, a run, :params/:memory/:recipe, and history that
// survives into the next session (Up arrow). Skipped, with the reason, where tmux is not installed.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./helpers.ts";

const tmux = Bun.which("tmux");
const dir = mkdtempSync(join(tmpdir(), "lft-pty-"));
const socket = `lft-test-${process.pid}`;
const history = join(dir, "history");
afterAll(() => {
  Bun.spawnSync(["tmux", "-L", socket, "kill-server"]);
  rmSync(dir, { recursive: true, force: true });
});

function tm(...args: string[]): string {
  const r = Bun.spawnSync(["tmux", "-L", socket, ...args]);
  return r.stdout.toString();
}

/** Starts the REPL in a new tmux session; returns the REPL's process id. */
function start(name: string): number {
  const command = `cd ${dir} && exec env LFT_HISTORY=${history} ${process.execPath} ${repoRoot}/test/dsl/fixtures/bare-cli.ts`;
  tm("new-session", "-d", "-s", name, "-x", "160", "-y", "60", command);
  tm("set-option", "-t", name, "remain-on-exit", "on");
  return Number(tm("display-message", "-p", "-t", name, "#{pane_pid}").trim());
}

/**
 * Waits for the process to end. Checked in /proc rather than by tmux's "Pane is dead": tmux
 * sometimes leaves an exited child unreaped for a while, which says nothing about the REPL.
 */
async function waitExit(pid: number, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let state = "gone";
    try {
      state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] ?? "gone";
    } catch {
      // no such process: it ended and was reaped
    }
    if (state === "gone" || state === "Z") return;
    if (Date.now() > deadline) throw new Error(`the REPL (pid ${pid}) is still running (state ${state})`);
    await Bun.sleep(50);
  }
}

function screen(name: string): string {
  return tm("capture-pane", "-p", "-J", "-t", name, "-S", "-500");
}

/** Waits until the pane shows `text` (a person would see it), or fails with what the pane shows. */
async function waitFor(name: string, text: string | RegExp, timeoutMs = 8000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = screen(name);
    if (typeof text === "string" ? shown.includes(text) : text.test(shown)) return shown;
    if (Date.now() > deadline) {
      const tail = shown.trimEnd().split("\n").slice(-25).join("\n");
      throw new Error(`timed out waiting for ${String(text)} in session ${name}; the pane ends with:\n${tail}`);
    }
    await Bun.sleep(50);
  }
}

/** Types keys (tmux key names such as Enter, Tab, Up are sent as keys) and lets the REPL react. */
async function keys(name: string, ...sequence: string[]): Promise<void> {
  for (const k of sequence) {
    if (["Enter", "Tab", "Up", "C-d", "C-c"].includes(k)) tm("send-keys", "-t", name, k);
    else tm("send-keys", "-t", name, "-l", k);
    await Bun.sleep(60);
  }
}

const skipReason = tmux === null ? " (skipped: tmux is not installed; apt-get install tmux)" : "";

test.skipIf(tmux === null)(
  `a REPL session through a pseudo-terminal${skipReason}`,
  async () => {
    const one = start("one");
    await waitFor("one", "lft REPL");
    await keys("one", `use "${repoRoot}/test/dsl/fixtures/fake-suite.ts"`, "Enter");
    await waitFor("one", "loaded fake-suite");

    // Tab completes the keyword, then the registry's family name.
    await keys("one", "mod", "Tab", " lla", "Tab", ' "models/toy"', "Enter");
    await waitFor("one", 'lft> model llama "models/toy"');

    // A block over several lines, with an option name completed inside it.
    await keys("one", "method lora {", "Enter");
    await waitFor("one", "...> ");
    await keys("one", "  ra", "Tab", " = 2", "Enter", "}", "Enter");
    await waitFor("one", "...>   rank = 2");

    // A mistake is reported and the session goes on.
    await keys("one", 'dataset alpaca "d.json" { weigth = 2 }', "Enter");
    await waitFor("one", 'unknown option "weigth"; did you mean "weight"?');
    await keys("one", 'dataset alpaca "d.json"', "Enter", "train sft for 3 steps", "Enter");
    await waitFor("one", "ran train");

    await keys("one", ":params", "Enter");
    await waitFor("one", /parameters \(\d+\) in 20 tensors/);
    await keys("one", ":memory", "Enter");
    await waitFor("one", /cpu: live [\d.]+ KiB \(\d+ bytes\) in \d+ blocks, peak/);
    await keys("one", ":recipe", "Enter");
    const shown = await waitFor("one", "train sft for 3 steps\n");
    expect(shown).toContain('model llama "models/toy"\nmethod lora { rank = 2 }\ndataset alpaca "d.json"\n');
    await keys("one", ":quit", "Enter");
    await waitExit(one);

    // History was written as typed, and the next session walks it with Up.
    const saved = readFileSync(history, "utf8");
    expect(saved).toContain("method lora {\n  rank = 2\n}\n");
    expect(saved.trimEnd().split("\n").at(-1)).toBe(":quit");
    const two = start("two");
    await waitFor("two", "lft REPL");
    await keys("two", "Up", "Up");
    await waitFor("two", /lft> :recipe\s*$/m);
    await keys("two", "C-c");
    await waitFor("two", "(input cancelled)");
    await keys("two", "C-d");
    await waitExit(two);
  },
  60_000,
);
