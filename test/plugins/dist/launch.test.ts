// `lft launch`: its mpirun command line (root, oversubscription, hosts), usage errors, mpirun's note on
// a dead rank read back as one line, and a real 2-rank launch of a recipe on the shipped tiny model.
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
