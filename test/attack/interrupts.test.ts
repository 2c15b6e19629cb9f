// Attack: SIGINT and SIGTERM to a real `lft` process, whatever its stdin is. The REPL fed by a pipe or a
// file (`printf '...' | lft`, `lft < session.txt`) must stop a training run the way Ctrl-C at a terminal
// does: a checkpoint written, the run recorded "interrupted", the output folder's lock released, and
// the process ending with status 130 (before, the signal killed it at once: no checkpoint, "crashed").
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { OUTPUT_LOCK_FILE, RunStore } from "../../core/index.ts";

const REPO = resolve(import.meta.dir, "../..");
const CLI = join(REPO, "dsl/cli.ts");
const work = mkdtempSync(join(tmpdir(), "lft-attack-int-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const statements = (out: string): string => `model llama "${REPO}/examples/models/stories260K" { template = default }
dataset alpaca "${REPO}/examples/data/identity.json"
method lora { rank = 4, targets = [all] }
train sft for 100000 steps { lr = 1e-3, batch = 4, output = "${out}" }
`;

type Stdin = "pipe" | "file" | "recipe";

interface Ended {
  readonly code: number;
  readonly log: string;
  readonly dir: string;
  readonly out: string;
}

/** Starts lft in a fresh folder, waits until training reports a step, sends `signal`, and waits for the end. */
async function interruptTraining(stdin: Stdin, signal: NodeJS.Signals): Promise<Ended> {
  const dir = join(work, `${stdin}-${signal}`);
  mkdirSync(dir);
  const out = join(dir, "out");
  writeFileSync(join(dir, "session.txt"), statements(out));
  writeFileSync(join(dir, "long.lft"), statements(out));
  const env = { ...process.env, CI: "true", LFT_HOME: ".lft" };
  const argv = stdin === "recipe" ? [process.execPath, CLI, "long.lft"] : [process.execPath, CLI];
  const proc = Bun.spawn(argv, {
    cwd: dir,
    env,
    stdin: stdin === "file" ? Bun.file(join(dir, "session.txt")) : stdin === "pipe" ? "pipe" : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  if (stdin === "pipe") {
    // As printf | lft: every line at once, then end of input while the run goes on.
    const sink = proc.stdin as import("bun").FileSink;
    sink.write(statements(out));
    await sink.end();
  }
  const stdout = new Response(proc.stdout).text();
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  let log = "";
  while (!/step\s+\d+\/100000/.test(log)) {
    const { value, done } = await reader.read();
    if (done) break;
    log += decoder.decode(value);
  }
  proc.kill(signal);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    log += decoder.decode(value);
  }
  const code = await proc.exited;
  return { code, log: log + (await stdout), dir, out };
}

function expectSavedAndRecorded(e: Ended): void {
  expect(e.code).toBe(130);
  expect(e.log).toMatch(/interrupted at step \d+/);
  const checkpoints = readdirSync(e.out).filter((d) => d.startsWith("checkpoint-"));
  expect(checkpoints.length).toBe(1);
  expect(existsSync(join(e.out, checkpoints[0]!, "trainer_state.json"))).toBe(true);
  expect(existsSync(join(e.out, OUTPUT_LOCK_FILE))).toBe(false);
  const store = RunStore.open(join(e.dir, ".lft", "runs.sqlite"))._unsafeUnwrap();
  try {
    const runs = store.listRuns();
    expect(runs.length).toBe(1);
    expect(runs[0]!.status).toBe("interrupted");
    expect(`checkpoint-${runs[0]!.step}`).toBe(checkpoints[0]!);
  } finally {
    store.close();
  }
  expect(e.log).not.toContain("    at ");
}

describe("a signal during training saves, records 'interrupted' and exits 130, whatever stdin is", () => {
  for (const [stdin, signal] of [
    ["pipe", "SIGINT"],
    ["pipe", "SIGTERM"],
    ["file", "SIGINT"],
    ["file", "SIGTERM"],
    ["recipe", "SIGTERM"],
  ] as const) {
    test(`${stdin === "recipe" ? "lft recipe.lft" : `the REPL reading a ${stdin}`} + ${signal}`, async () => {
      expectSavedAndRecorded(await interruptTraining(stdin, signal));
    }, 30_000);
  }
});

test("a signal to an idle REPL reading a pipe ends it with 130 at once", async () => {
  const dir = join(work, "idle");
  mkdirSync(dir);
  const proc = Bun.spawn([process.execPath, CLI], {
    cwd: dir,
    env: { ...process.env, CI: "true", LFT_HOME: ".lft" },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!out.includes("lft> ")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  proc.kill("SIGTERM");
  const t0 = Date.now();
  expect(await proc.exited).toBe(130);
  expect(Date.now() - t0).toBeLessThan(5_000);
  expect(await new Response(proc.stderr).text()).toContain("(SIGTERM: leaving");
}, 20_000);
