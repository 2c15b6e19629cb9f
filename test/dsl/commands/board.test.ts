// `lft board` as a user starts it: one line with the link, loopback by default, a warning for any
// other host, and Ctrl-C stops the board after giving the runs it launched their graceful stop.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunStore } from "../../../core/index.ts";

const repo = join(import.meta.dir, "..", "..", "..");
const work = mkdtempSync(join(tmpdir(), "lft-board-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  reader.releaseLock();
  return text.split("\n")[0]!;
}

function startBoard(args: string[], env: Record<string, string> = {}) {
  return Bun.spawn([join(repo, "lft"), "board", "--port", "0", "--store", join(work, "home"), ...args], {
    cwd: work,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, CI: "true", ...env },
  });
}

test("prints one line with a loopback link and a random token; Ctrl-C stops a launched run gracefully", async () => {
  const board = startBoard([]);
  const line = await firstLine(board.stdout);
  const m = /^lft board: (http:\/\/127\.0\.0\.1:\d+)\/\?token=([0-9a-f]{64})$/.exec(line);
  expect(m).not.toBeNull();
  const [, base, token] = m!;
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  expect((await fetch(`${base}/api/info`)).status).toBe(401);
  const recipe = `model llama "${repo}/examples/models/stories260K" { template = default }
dataset alpaca "${repo}/examples/data/identity.json"
method lora
train sft for 100000 steps { lr = 1e-3, log_every = 1, output = "${work}/long" }
`;
  const launched = await fetch(`${base}/api/runs`, { method: "POST", headers, body: JSON.stringify({ recipe }) });
  expect(launched.status).toBe(201);
  const { id } = (await launched.json()) as { id: string };
  // Wait until the run trains, then Ctrl-C the board.
  for (let i = 0; i < 200; i++) {
    const detail = (await (await fetch(`${base}/api/runs/${id}`, { headers })).json()) as { run: { step: number } };
    if (detail.run.step >= 2) break;
    await Bun.sleep(100);
  }
  board.kill("SIGINT");
  expect(await board.exited).toBe(0);
  const store = RunStore.open(join(work, "home", "runs.sqlite"))._unsafeUnwrap();
  const runs = store.listRuns();
  store.close();
  expect(runs.length).toBe(1);
  expect(runs[0]!.status).toBe("interrupted");
  expect(readdirSync(join(work, "long")).filter((d) => d.startsWith("checkpoint-")).length).toBe(1);
  // The hidden copy the run read is gone; the saved recipe stays under the store's folder.
  expect(readdirSync(work).filter((f) => f.endsWith(".lft"))).toEqual([]);
  expect(readdirSync(join(work, "home", "board", "recipes"))).toEqual([`${id}.lft`]);
}, 60_000);

test("another host is warned about; LFT_BOARD_TOKEN sets the token; a bad port is a usage error", async () => {
  const board = startBoard(["--host", "0.0.0.0"], { LFT_BOARD_TOKEN: "fixed-token" });
  const line = await firstLine(board.stdout);
  expect(line).toMatch(/^lft board: http:\/\/0\.0\.0\.0:\d+\/\?token=fixed-token$/);
  board.kill("SIGINT");
  expect(await board.exited).toBe(0);
  expect(await new Response(board.stderr).text()).toContain("warning: listening on 0.0.0.0");
  const bad = Bun.spawn([join(repo, "lft"), "board", "--port", "http"], { cwd: work, stdout: "pipe", stderr: "pipe" });
  expect(await bad.exited).toBe(2);
  expect(await new Response(bad.stderr).text()).toContain("--port must be a port number");
}, 30_000);
