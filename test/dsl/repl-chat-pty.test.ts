// Issue 14, case 1, through a real pseudo-terminal (tmux): `./lft`, load the shipped model, `chat`,
// talk, leave the chat with /exit, Ctrl-D or Ctrl-C; the REPL then takes statements again and ends on
// Ctrl-D within a couple of seconds (it used to read the chat lines as statements and then spin).
// Also case 9 as typed: Tab completes a path inside a string, :drop, :undo, :save.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { repoRoot } from "./helpers.ts";

const tmux = Bun.which("tmux");
const dir = mkdtempSync(join(tmpdir(), "lft-chat-pty-"));
const socket = `lft-chat-${process.pid}`;
afterAll(() => {
  Bun.spawnSync(["tmux", "-L", socket, "kill-server"]);
  rmSync(dir, { recursive: true, force: true });
});

const tm = (...args: string[]): string => Bun.spawnSync(["tmux", "-L", socket, ...args]).stdout.toString();

function start(name: string): number {
  const command = `cd ${repoRoot} && exec env LFT_HISTORY=${join(dir, `history-${name}`)} ./lft`;
  tm("new-session", "-d", "-s", name, "-x", "160", "-y", "60", command);
  tm("set-option", "-t", name, "remain-on-exit", "on");
  return Number(tm("display-message", "-p", "-t", name, "#{pane_pid}").trim());
}

async function waitExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let state = "gone";
    try {
      state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] ?? "gone";
    } catch {
      // ended and reaped
    }
    if (state === "gone" || state === "Z") return;
    if (Date.now() > deadline) throw new Error(`the REPL (pid ${pid}) is still running (state ${state})`);
    await Bun.sleep(50);
  }
}

const screen = (name: string): string => tm("capture-pane", "-p", "-J", "-t", name, "-S", "-500");

async function waitFor(name: string, text: string | RegExp, timeoutMs = 15000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = screen(name);
    if (typeof text === "string" ? shown.includes(text) : text.test(shown)) return shown;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${String(text)}; the pane ends with:\n${shown.trimEnd().split("\n").slice(-20).join("\n")}`);
    await Bun.sleep(50);
  }
}

/** How many times `text` shows in the pane. */
const count = (name: string, text: string): number => screen(name).split(text).length - 1;

async function keys(name: string, ...sequence: string[]): Promise<void> {
  for (const k of sequence) {
    if (["Enter", "Tab", "C-d", "C-c"].includes(k)) tm("send-keys", "-t", name, k);
    else tm("send-keys", "-t", name, "-l", k);
    await Bun.sleep(60);
  }
}

/** Starts the REPL with the shipped model loaded and a chat open, after one exchange. */
async function chatting(name: string): Promise<number> {
  const pid = start(name);
  await waitFor(name, "lft REPL");
  await keys(name, 'model llama "examples/models/stories260K" { template = default }', "Enter");
  await waitFor(name, /lft> $/m);
  await keys(name, "chat", "Enter");
  await waitFor(name, "/exit or end of input leaves");
  await keys(name, "hi", "Enter");
  await waitFor(name, "assistant> ");
  await waitFor(name, /you> $/m);
  return pid;
}

/** After the chat: a statement runs as a statement, and Ctrl-D ends the process quickly. */
async function backInRepl(name: string, pid: number): Promise<void> {
  await waitFor(name, /lft> $/m);
  const before = count(name, "lft> ");
  await keys(name, "let steps = 3", "Enter");
  await waitFor(name, /let steps = 3\n(.*\n)*lft> $/m);
  expect(count(name, "lft> ")).toBe(before + 1);
  const shown = screen(name);
  expect(shown).not.toContain('found "hi"');
  expect(shown).not.toContain("<repl:");
  await keys(name, "C-d");
  await waitExit(pid, 2500);
}

const skip = tmux === null ? " (skipped: tmux is not installed)" : "";

test.skipIf(tmux === null)(
  `chat in the REPL, left with /exit${skip}`,
  async () => {
    const pid = await chatting("exit");
    await keys("exit", "/exit", "Enter");
    await backInRepl("exit", pid);
  },
  60_000,
);

test.skipIf(tmux === null)(
  `chat in the REPL, left with Ctrl-D${skip}`,
  async () => {
    const pid = await chatting("eof");
    await keys("eof", "C-d");
    await backInRepl("eof", pid);
  },
  60_000,
);

test.skipIf(tmux === null)(
  `chat in the REPL, left with Ctrl-C${skip}`,
  async () => {
    const pid = await chatting("int");
    await keys("int", "C-c");
    await backInRepl("int", pid);
  },
  60_000,
);

test.skipIf(tmux === null)(
  `REPL editing through a terminal: Tab completes a path, :drop, :undo, :save${skip}`,
  async () => {
    const pid = start("edit");
    await waitFor("edit", "lft REPL");
    await keys("edit", 'model llama "examples/models/sto', "Tab");
    await waitFor("edit", 'lft> model llama "examples/models/stories260K/');
    await keys("edit", '"', "Enter");
    await waitFor("edit", /lft> $/m);
    await keys("edit", "method lora { rank = 2 }", "Enter", ":drop method", "Enter");
    await waitFor("edit", "dropped method");
    await keys("edit", ":undo", "Enter", ":recipe", "Enter");
    await waitFor("edit", 'model llama "examples/models/stories260K/"\nmethod lora { rank = 2 }\n');
    const file = join(dir, "saved", "r.lft");
    await keys("edit", `:save ${file}`, "Enter");
    await waitFor("edit", `saved ${file}`);
    const saved = readFileSync(file, "utf8");
    expect(resolve(dirname(file), /model llama "([^"]+)"/.exec(saved)![1]!)).toBe(resolve(repoRoot, "examples/models/stories260K"));
    await keys("edit", "C-d");
    await waitExit(pid, 2500);
  },
  60_000,
);
