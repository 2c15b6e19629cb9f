// Every command README.md shows in a ```sh block works as written, from a fresh shell after set-up:
// each runs in `bash -c` at the repository root with an empty environment whose PATH lacks
// node_modules/.bin (so nothing may rely on Bun being on PATH), and must exit 0.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const repo = join(import.meta.dir, "..");

/** The command lines of README.md's ```sh blocks, in order, with their line numbers. */
export function shellCommands(markdown: string): { line: number; command: string }[] {
  const out: { line: number; command: string }[] = [];
  let inSh = false;
  markdown.split("\n").forEach((text, i) => {
    if (/^```/.test(text)) {
      inSh = !inSh && /^```(sh|bash|shell)\s*$/.test(text);
      return;
    }
    const command = text.trim();
    if (inSh && command !== "" && !command.startsWith("#")) out.push({ line: i + 1, command });
  });
  return out;
}

/** Commands not run here, each with why. */
function skipReason(command: string): string | null {
  const bare = command.replace(/\s+#.*$/, "").trim();
  if (bare === "make demo" || bare === "make test") return "it is the set-up this test runs after (CI runs make test itself)";
  if (bare === "./lft") return "it opens the interactive REPL (test/dsl/repl-pty.test.ts drives it in a terminal)";
  return null;
}

/** Servers (`lft api`, `lft board`) run until stopped: the test starts one, waits for its ready line, runs the
 * README's next commands against it (a `curl`), and stops it with SIGINT, as Ctrl-C would, at the end. */
const SERVER_READY: readonly [RegExp, RegExp][] = [
  [/^(\S+=\S+\s+)*\.\/lft api\b/, /lft api: listening on http:\/\/\S+/],
  [/^(\S+=\S+\s+)*\.\/lft board\b/, /lft board: http:\/\/\S+\?token=/],
];
function serverReady(command: string): RegExp | null {
  const bare = command.replace(/\s+#.*$/, "").trim();
  return SERVER_READY.find(([starts]) => starts.test(bare))?.[1] ?? null;
}

/** Seconds a command may take: training runs get minutes on a loaded 2-core machine. */
function limitSeconds(command: string): number {
  return /\.lft(\s|$)/.test(command) && !/\bcheck\b/.test(command) ? 600 : 120;
}

const freshPath = (process.env.PATH ?? "/usr/bin:/bin")
  .split(":")
  .filter((d) => d !== "" && !d.includes("node_modules/.bin"))
  .join(":");

test("the extractor finds sh blocks' commands and nothing else", () => {
  const md = ["text", "```sh", "make demo   # note", "", "# a comment", "./lft x", "```", "```ts", "const a = 1;", "```", "```", "plain", "```"].join("\n");
  expect(shellCommands(md)).toEqual([
    { line: 3, command: "make demo   # note" },
    { line: 6, command: "./lft x" },
  ]);
});

describe("README.md's commands, from a fresh shell without node_modules/.bin on PATH", () => {
  const commands = shellCommands(readFileSync(join(repo, "README.md"), "utf8"));
  test("README shows commands", () => expect(commands.length).toBeGreaterThan(5));
  const servers: Bun.Subprocess<"ignore", "pipe", "pipe">[] = [];
  afterAll(async () => {
    for (const s of servers) s.kill("SIGINT");
    await Promise.all(servers.map((s) => Promise.race([s.exited, Bun.sleep(10_000).then(() => s.kill("SIGKILL"))])));
  });
  for (const { line, command } of commands) {
    const why = skipReason(command);
    if (why !== null) {
      test.skip(`README.md:${line} ${command} (skipped: ${why})`, () => {});
      continue;
    }
    const ready = serverReady(command);
    if (ready !== null) {
      test(`README.md:${line} ${command} (a server: started, then stopped after the README's commands)`, async () => {
        const s = Bun.spawn(["bash", "-c", command], {
          cwd: repo,
          env: { PATH: freshPath, HOME: process.env.HOME ?? "/root", NO_COLOR: "1", LFT_HOME: process.env.LFT_HOME ?? "" },
          stdin: "ignore",
          stdout: "pipe",
          stderr: "pipe",
        });
        servers.push(s);
        let seen = "";
        const reader = s.stdout.getReader();
        const deadline = Date.now() + 120_000;
        while (!ready.test(seen) && Date.now() < deadline) {
          const chunk = await Promise.race([reader.read(), s.exited.then(() => ({ done: true, value: undefined }))]);
          if (chunk.done) break;
          seen += new TextDecoder().decode(chunk.value);
        }
        reader.releaseLock();
        const detail = ready.test(seen)
          ? "ready"
          : `no ready line; stdout: ${seen.slice(-2000)}\nstderr: ${(await new Response(s.stderr).text()).slice(-2000)}`;
        expect(detail).toBe("ready");
      }, 125_000);
      continue;
    }
    test(
      `README.md:${line} ${command}`,
      () => {
        const r = Bun.spawnSync(["bash", "-c", command], {
          cwd: repo,
          // LFT_HOME: the temp run store test/preload.ts set up, so README runs stay out of the user's store.
          env: { PATH: freshPath, HOME: process.env.HOME ?? "/root", NO_COLOR: "1", LFT_HOME: process.env.LFT_HOME ?? "" },
          stdin: "ignore",
          stdout: "pipe",
          stderr: "pipe",
          timeout: limitSeconds(command) * 1000,
        });
        const detail = `exit ${r.exitCode}${r.signalCode ? ` (${r.signalCode})` : ""}\nstdout: ${r.stdout.toString().slice(-2000)}\nstderr: ${r.stderr.toString().slice(-2000)}`;
        expect(r.exitCode === 0 ? "exit 0" : detail).toBe("exit 0");
      },
      limitSeconds(command) * 1000 + 5000,
    );
  }
});
