// `lft launch`: its mpirun command line (root, oversubscription, hosts), usage errors, mpirun's note on
// a dead rank read back as one line, and a real 2-rank launch of a recipe on the shipped tiny model.
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deadRank, mpirunCommand, parseLaunch } from "../../../plugins/dist/index.ts";
import { MPI_ENV, mpiMissing, ROOT } from "./mpi-env.ts";

test("the mpirun command: root and oversubscription only when needed, hosts passed through", () => {
  const plan = parseLaunch(["-n", "4", "r.lft", "--", "--set", "train.lr=1e-4"])._unsafeUnwrap();
  expect(mpirunCommand(plan, "/x/lft", { root: true, cores: 2 })).toEqual([
    "mpirun",
    "-n",
    "4",
    "--allow-run-as-root",
    "--oversubscribe",
    "/x/lft",
    "r.lft",
    "--set",
    "train.lr=1e-4",
  ]);
  expect(mpirunCommand(parseLaunch(["-n=2", "r.lft"])._unsafeUnwrap(), "lft", { root: false, cores: 8 })).toEqual(["mpirun", "-n", "2", "lft", "r.lft"]);
  const multi = parseLaunch(["r.lft", "-n", "8", "--hosts", "a:4,b:4"])._unsafeUnwrap();
  expect(mpirunCommand(multi, "lft", { root: false, cores: 2 })).toEqual(["mpirun", "-n", "8", "--host", "a:4,b:4", "lft", "r.lft"]);
});

test("usage errors say what is missing", () => {
  expect(parseLaunch(["r.lft"])._unsafeUnwrapErr()).toContain("-n N");
  expect(parseLaunch(["-n", "0", "r.lft"])._unsafeUnwrapErr()).toContain('positive whole number of ranks, got "0"');
  expect(parseLaunch(["-n", "2"])._unsafeUnwrapErr()).toContain("give the recipe");
  expect(parseLaunch(["-n", "2", "a.lft", "b.lft"])._unsafeUnwrapErr()).toContain("one recipe per launch");
  expect(parseLaunch(["-n", "2", "--gpus", "r.lft"])._unsafeUnwrapErr()).toContain("unknown option --gpus");
  expect(parseLaunch(["-n", "2", "r.lft", "--hosts", "a", "--hostfile", "f"])._unsafeUnwrapErr()).toContain("not both");
});

test("mpirun's report of a dead rank becomes one line naming it", () => {
  expect(deadRank("mpirun noticed that process rank 1 with PID 0 on node vm exited on signal 9 (Killed).")).toBe(
    "rank 1 (on vm) was killed by signal 9 (Killed)",
  );
  expect(deadRank("  Process name: [[19155,1],1]\n  Exit code:    1\n")).toBe("rank 1 exited with status 1");
  expect(deadRank("nothing")).toBeNull();
});

const missing = mpiMissing();
test.skipIf(missing !== null)(
  `lft launch -n 2 trains a recipe; rank 0 alone writes the outputs${missing ? ` (skipped: ${missing})` : ""}`,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "lft-launch-"));
    try {
      writeFileSync(
        join(dir, "r.lft"),
        `model llama "${ROOT}/examples/models/stories260K" { template = default }
dataset alpaca "${ROOT}/examples/data/identity.json"
method lora { rank = 4  alpha = 8  targets = [q_proj, v_proj] }
train sft for 3 steps { lr = 5e-3  batch = 2  log_every = 1  output = "out" }
`,
      );
      const p = Bun.spawn([join(ROOT, "lft"), "launch", "-n", "2", "r.lft"], {
        cwd: dir,
        env: { ...process.env, ...MPI_ENV, LFT_HOME: join(dir, "home") },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(stderr).not.toContain("warning");
      expect(code).toBe(0);
      // One rank speaks: each line once.
      expect(stdout.match(/lora adapter written to out/g)?.length).toBe(1);
      expect(stdout).toContain("2 ranks (mpi), 2 per rank, global batch 4 per step");
      expect(existsSync(join(dir, "out", "adapter_model.safetensors"))).toBe(true);
      const log = readFileSync(join(dir, "out", "trainer_log.jsonl"), "utf8")
        .trim()
        .split("\n");
      expect(log.length).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  60_000,
);

/** The pid of the process whose environment holds both `mark` and rank `rank` of an MPI job. */
function rankPid(mark: string, rank: number): number | null {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (env.includes(`LFT_TEST_MARK=${mark}`) && env.includes(`OMPI_COMM_WORLD_RANK=${rank}`)) return Number(entry);
    } catch {
      // a process that ended, or one we may not read
    }
  }
  return null;
}

test.skipIf(missing !== null)(
  `lft launch: a rank killed mid-run stops the job, names the rank, and the checkpoint resumes${missing ? ` (skipped: ${missing})` : ""}`,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "lft-launch-kill-"));
    const recipe = (resume: boolean) => `model llama "${ROOT}/examples/models/stories260K" { template = default }
dataset alpaca "${ROOT}/examples/data/identity.json"
method lora { rank = 4  alpha = 8  targets = [q_proj, v_proj] }
train sft for 400 steps { lr = 5e-3  batch = 2  log_every = 1  save_every = 1  save_total_limit = 2  resume = ${resume}  output = "out" }
`;
    try {
      writeFileSync(join(dir, "r.lft"), recipe(false));
      const mark = `${process.pid}-${Date.now()}`;
      const env = { ...process.env, ...MPI_ENV, LFT_HOME: join(dir, "home"), LFT_TEST_MARK: mark };
      const p = Bun.spawn([join(ROOT, "lft"), "launch", "-n", "2", "r.lft"], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
      const out = Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
      const log = join(dir, "out", "trainer_log.jsonl");
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !(existsSync(log) && readFileSync(log, "utf8").split("\n").length > 3)) await Bun.sleep(100);
      const pid = rankPid(mark, 1);
      expect(pid).not.toBeNull();
      const lead = rankPid(mark, 0);
      process.kill(pid!, "SIGKILL");
      const code = await p.exited;
      // mpirun has stopped rank 0 too (here about 1 s after mpirun itself exits: its SIGTERM, then SIGKILL).
      const gone = Date.now() + 10_000;
      while (Date.now() < gone && lead !== null && existsSync(`/proc/${lead}`)) await Bun.sleep(50);
      expect(lead !== null && existsSync(`/proc/${lead}`)).toBe(false);
      const [, stderr] = await out;
      expect(code).toBe(6);
      expect(stderr).toMatch(/lft launch: the job failed: rank 1 \(on \S+\) was killed by signal 9/);
      expect(stderr).toContain("set resume = true");
      const saved = readdirSync(join(dir, "out")).filter((n) => n.startsWith("checkpoint-"));
      expect(saved.length).toBeGreaterThan(0);
      // Resume on one rank (a different count) from the newest checkpoint, for a few more steps.
      const last = Math.max(...saved.map((n) => Number(n.slice("checkpoint-".length))));
      writeFileSync(join(dir, "r.lft"), recipe(true).replace("for 400 steps", `for ${last + 2} steps`));
      const resumed = Bun.spawnSync([join(ROOT, "lft"), "r.lft"], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
      // The killed job's output lock is stale: taken over with a note, nothing else to warn about.
      expect(resumed.stderr.toString()).toMatch(/^warning: took over the lock on out left by process \d+ on \S+ \(run [^)]+\), which is no longer running\n/);
      expect(resumed.stderr.toString()).not.toContain("damaged");
      expect(resumed.exitCode).toBe(0);
      expect(resumed.stdout.toString()).toContain(`checkpoint out/checkpoint-${last + 2}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  90_000,
);
