// Ctrl-C during `lft recipe.lft`: the run stops after the current step, writes a checkpoint, is recorded
// as interrupted, and the process exits 130 — through a real SIGINT to a real CLI process.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = join(import.meta.dir, "..", "..");
const work = mkdtempSync(join(tmpdir(), "lft-sigint-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test("SIGINT stops a training run with a checkpoint and exit code 130", async () => {
  writeFileSync(
    join(work, "long.lft"),
    `model llama "${repo}/examples/models/stories260K" { template = default }
dataset alpaca "${repo}/examples/data/identity.json"
method lora { rank = 8, targets = [all] }
train sft for 100000 steps { lr = 1e-3, batch = 4, output = "${work}/run" }
`,
  );
  const proc = Bun.spawn([process.execPath, join(repo, "dsl", "cli.ts"), "long.lft"], {
    cwd: work,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, CI: "true" },
  });
  // Wait until training has made progress (the progress line reports steps), then interrupt.
  const reader = proc.stderr.getReader();
  let err = "";
  const decoder = new TextDecoder();
  while (!/step\s+\d+\/100000/.test(err)) {
    const { value, done } = await reader.read();
    if (done) break;
    err += decoder.decode(value);
  }
  proc.kill("SIGINT");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    err += decoder.decode(value);
  }
  const code = await proc.exited;
  expect(code).toBe(130);
  expect(err).toMatch(/interrupted at step \d+/);
  const checkpoints = readdirSync(join(work, "run")).filter((d) => d.startsWith("checkpoint-"));
  expect(checkpoints.length).toBe(1);
  expect(existsSync(join(work, "run", checkpoints[0]!, "trainer_state.json"))).toBe(true);
}, 60_000);
