// `lft api` as a user starts it: the key from LFT_API_KEY or a printed fresh one, exactly one
// `lft api: listening on http://HOST:PORT` line (what the board waits for), loopback by default, a warning
// for another host, usage errors for bad flags, a clean exit on SIGINT; and the verb is in `lft --help`.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { repo } from "./helpers.ts";

const lft = join(repo, "lft");
const LISTENING = /^lft api: listening on (http:\/\/[^\s]+)$/m;

/** Starts `lft api`, reads its stdout until the listening line; returns the process, URL and output so far. */
async function start(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([lft, "api", "examples/models/stories260K", "--port", "0", "--template", "default", ...args], {
    cwd: repo,
    env: { ...process.env, LFT_API_KEY: "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 25_000;
  while (!LISTENING.test(out) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { proc, out, url: LISTENING.exec(out)?.[1] };
}

async function stop(proc: ReturnType<typeof Bun.spawn>): Promise<number> {
  proc.kill("SIGINT");
  return await proc.exited;
}

test("with LFT_API_KEY: one listening line on 127.0.0.1, the key required, SIGINT ends it with status 0", async () => {
  const { proc, out, url } = await start([], { LFT_API_KEY: "env-key" });
  try {
    expect(out.match(/listening on/g)).toHaveLength(1);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).not.toContain("env-key");
    expect((await fetch(`${url}/v1/models`)).status).toBe(401);
    const models = (await (await fetch(`${url}/v1/models`, { headers: { Authorization: "Bearer env-key" } })).json()) as { data: { id: string }[] };
    expect(models.data[0]!.id).toBe("stories260K");
  } finally {
    expect(await stop(proc)).toBe(0);
  }
}, 40_000);

test("without a key one is generated and printed; --api-key wins over the environment", async () => {
  const generated = await start([]);
  try {
    const key = /API key (\S+)/.exec(generated.out)?.[1];
    expect(key).toBeDefined();
    expect((await fetch(`${generated.url}/v1/models`, { headers: { Authorization: `Bearer ${key}` } })).status).toBe(200);
  } finally {
    await stop(generated.proc);
  }
  const flagged = await start(["--api-key", "flag-key"], { LFT_API_KEY: "env-key" });
  try {
    expect((await fetch(`${flagged.url}/v1/models`, { headers: { Authorization: "Bearer flag-key" } })).status).toBe(200);
    expect((await fetch(`${flagged.url}/v1/models`, { headers: { Authorization: "Bearer env-key" } })).status).toBe(401);
  } finally {
    await stop(flagged.proc);
  }
}, 40_000);

test("another --host is served with a warning on stderr", async () => {
  const { proc, url } = await start(["--host", "0.0.0.0"], { LFT_API_KEY: "k" });
  expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
  await stop(proc);
  expect(await new Response(proc.stderr as ReadableStream).text()).toContain("warning: lft api listens on 0.0.0.0");
}, 40_000);

test("bad flags and a missing model are refused before listening; api is in lft --help", async () => {
  const run = (args: string[]) => Bun.spawnSync([lft, ...args], { cwd: repo, env: { ...process.env, LFT_API_KEY: "k" } });
  const badPort = run(["api", "examples/models/stories260K", "--port", "http"]);
  expect(badPort.exitCode).toBe(2);
  expect(badPort.stderr.toString()).toContain("--port must be an integer");
  const missing = run(["api", "no/such/model"]);
  expect(missing.exitCode).not.toBe(0);
  expect(missing.stderr.toString()).toContain("config.json");
  expect(missing.stdout.toString()).not.toContain("listening");
  const help = run(["--help"]).stdout.toString();
  expect(help).toMatch(/^ {2}api MODEL_DIR/m);
  expect(help).toContain("OpenAI-compatible");
}, 40_000);
