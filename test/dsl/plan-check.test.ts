// The plan's one line where users meet it without asking: `lft check` (the same peak `lft plan`
// prints, for a recipe that trains; none for one that does not) and the board's POST /api/plan.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode, RunStore } from "../../core/index.ts";
import { type Board, startBoard } from "../../dsl/board/server/server.ts";
import { lftPlugin } from "../../dsl/commands/index.ts";
import { openSession } from "../../dsl/session.ts";
import { captureIO, repoRoot } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-plan-check-"));
const model = join(repoRoot, "examples", "models", "stories260K");
const identity = join(repoRoot, "examples", "data", "identity.json");
const trains = `model llama "${model}" { template = default }\ndataset alpaca "${identity}"\nmethod lora { rank = 8, targets = [all] }\ntrain sft for 10 steps { batch = 2, cutoff = 128, output = "${join(dir, "out")}" }\n`;
writeFileSync(join(dir, "trains.lft"), trains);
writeFileSync(join(dir, "chats.lft"), `model llama "${model}" { template = default }\nchat "hi" { max_new_tokens = 4 }\n`);

function lft(...argv: string[]): { code: number; out: string; err: string } {
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/dsl/cli.ts`, ...argv], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", LFT_HOME: join(dir, "home") },
  });
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
}

describe("lft check's plan line", () => {
  test("a recipe that trains: the peak lft plan prints, its largest parts, the step time", () => {
    const check = lft("check", "trains.lft");
    expect(check.code).toBe(ExitCode.ok);
    const line = /^ {2}plan: peak ([\d.]+ \w+) \(MiB: (.+)\), ~([\d.]+ m?s)\/step on this machine$/m.exec(check.out);
    expect(line).not.toBeNull();
    expect(line![2]).toContain("activations");
    const plan = lft("plan", "trains.lft");
    expect(plan.code).toBe(ExitCode.ok);
    expect(plan.out).toMatch(new RegExp(`^ {2}peak +${line![1]!.replace(".", "\\.")} `, "m"));
  });

  test("a recipe that only chats gets no plan line; --syntax-only none either", () => {
    expect(lft("check", "chats.lft").out).toBe("chats.lft: ok\n");
    expect(lft("check", "--syntax-only", "trains.lft").out).toBe("trains.lft: ok\n");
  });
});

describe("POST /api/plan", () => {
  const token = "plan-token";
  let board: Board;
  let store: RunStore;
  beforeAll(async () => {
    const { session } = await openSession({ mode: "cli", io: captureIO(dir), core: lftPlugin, projectPlugins: false });
    store = RunStore.open(join(dir, "runs.sqlite"))._unsafeUnwrap();
    board = await startBoard({ registry: session.registry, store, home: dir, cwd: dir, token, version: "test", env: { ...process.env, CI: "true" } });
  });
  afterAll(async () => {
    await board.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const post = (body: unknown): Promise<Response> =>
    fetch(`${board.url}/api/plan`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  test("answers the check line with the peak and its parts as numbers", async () => {
    const r = await post({ recipe: trains });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { plan: { line: string; peakBytes: number; parts: { name: string; bytes: number }[]; stepSeconds: number } };
    expect(body.plan.line).toMatch(/^plan: peak [\d.]+ MiB \(MiB: activations/);
    expect(body.plan.parts.reduce((a, p) => a + p.bytes, 0)).toBe(body.plan.peakBytes);
    expect(body.plan.stepSeconds).toBeGreaterThan(0);
    const gpu = (await (await post({ recipe: trains, device: "h100" })).json()) as { plan: { line: string } };
    expect(gpu.plan.line).toContain("on an NVIDIA H100 SXM 80GB");
  });

  test("bad input: a recipe that does not check (422, located), an unknown device (400)", async () => {
    const bad = await post({ recipe: trains.replace("lora", "lorra") });
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { error: string; diagnostics: { line?: number; message: string }[] };
    expect(body.error).toContain("does not check");
    expect(body.diagnostics[0]!.line).toBe(3);
    const device = await post({ recipe: trains, device: "tpu" });
    expect(device.status).toBe(400);
    expect(((await device.json()) as { error: { message: string } }).error.message).toContain('unknown device "tpu"');
    expect((await post({ recipe: 7 })).status).toBe(400);
  });
});
