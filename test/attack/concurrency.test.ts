// Attack: runs at the same time. Several processes writing one run store must all succeed with every
// row kept (SQLite's busy errors are waited out, never passed on as a failed run); two runs on one
// output folder must not both write it: the second is refused at once, before its model loads, naming
// the first, and the first's files stay as they were. A lock left by a killed run is taken over; a run
// that fails releases its lock.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { lockOutput, OUTPUT_LOCK_FILE, RunStore } from "../../core/index.ts";
import { isBusy, retryWhileBusy } from "../../core/store/busy.ts";
import { main } from "../../dsl/cli.ts";
import { captureIO, lft } from "../plugins/runner/helpers.ts";

const REPO = resolve(import.meta.dir, "../..");
const STORIES = join(REPO, "examples/models/stories260K");
const IDENTITY = join(REPO, "examples/data/identity.json");
const work = mkdtempSync(join(tmpdir(), "lft-attack-conc-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A pid that belonged to a process which has ended (a short child, waited for). */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}

function recipe(output: string, seed: number, steps: number): string {
  return `model llama "${STORIES}" { template = default }
dataset alpaca "${IDENTITY}"
method lora { rank = 4, targets = [all] }
train sft for ${steps} steps { lr = 1e-3, batch = 4, seed = ${seed}, save_every = 5, output = "${output}" }
`;
}

/** Every file under dir with its size and modification time, to see that nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out[p.slice(dir.length)] = `${st.size}:${st.mtimeMs}:${new Bun.CryptoHasher("sha256").update(readFileSync(p)).digest("hex")}`;
    }
  };
  walk(dir);
  return out;
}

describe("run store under concurrent writers", () => {
  test("six processes open a new store at once and write 150 steps each: all succeed, every row is there", async () => {
    const dir = join(work, "store");
    mkdirSync(dir);
    const db = join(dir, "runs.sqlite");
    const writer = join(dir, "writer.ts");
    writeFileSync(
      writer,
      `import { RunStore, storeHooks } from ${JSON.stringify(join(REPO, "core/index.ts"))};
const [path, id, steps] = process.argv.slice(2);
const opened = RunStore.open(path);
if (opened.isErr()) { console.error(opened.error.message); process.exit(3); }
// The hooks a training run uses: a throw here is what failed runs with "database is locked".
const hooks = storeHooks(opened.value, { name: id });
const n = Number(steps);
hooks.onRunStart({ runId: id, recipe: "r", startedAt: Date.now(), totalSteps: n });
for (let step = 1; step <= n; step++) {
  hooks.onStep({ runId: id, step, loss: 1 / step, lr: 1e-3, tokens: 10, elapsedMs: step });
  if (step % 25 === 0) hooks.onSave({ runId: id, step, path: "/ckpt/" + step, kind: "checkpoint" });
}
hooks.onRunEnd({ runId: id, status: "completed", step: n, elapsedMs: n });
opened.value.close();
`,
    );
    const writers = Array.from({ length: 6 }, (_, i) =>
      Bun.spawn([process.execPath, writer, db, `run-${i}`, "150"], { cwd: REPO, stdout: "pipe", stderr: "pipe" }),
    );
    const codes = await Promise.all(writers.map((w) => w.exited));
    const errors = await Promise.all(writers.map((w) => new Response(w.stderr).text()));
    expect(errors.join("")).toBe("");
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    const store = RunStore.open(db)._unsafeUnwrap();
    try {
      for (let i = 0; i < 6; i++) {
        const run = store.getRun(`run-${i}`)._unsafeUnwrap();
        expect(run.status).toBe("completed");
        expect(store.metric(`run-${i}`, "loss").map((p) => p.step)).toEqual(Array.from({ length: 150 }, (_, s) => s + 1));
        expect(store.artifacts(`run-${i}`).length).toBe(6);
      }
    } finally {
      store.close();
    }
  }, 30_000);

  test("a busy error is retried until it clears; other errors and a busy that outlasts the limit pass through", () => {
    let calls = 0;
    const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
    expect(
      retryWhileBusy(() => {
        if (++calls < 4) throw busy;
        return "written";
      }),
    ).toBe("written");
    expect(calls).toBe(4);
    expect(isBusy(Object.assign(new Error("x"), { code: "SQLITE_BUSY_SNAPSHOT" }))).toBe(true);
    expect(isBusy(Object.assign(new Error("constraint failed"), { code: "SQLITE_CONSTRAINT" }))).toBe(false);
    expect(() =>
      retryWhileBusy(() => {
        throw new Error("no such table: runs");
      }),
    ).toThrow("no such table");
    expect(() =>
      retryWhileBusy(() => {
        throw busy;
      }, 30),
    ).toThrow("database is locked");
  });
});

describe("output folder lock", () => {
  test("a second lock on a held folder is refused, naming the holder; release frees it; a folder it made and left empty goes", () => {
    const dir = join(work, "lock-a", "out");
    const first = lockOutput(dir, "a.lft · train sft")._unsafeUnwrap();
    expect(existsSync(join(dir, OUTPUT_LOCK_FILE))).toBe(true);
    first.lock.name("run-123");
    const second = lockOutput(dir, "b.lft · train sft");
    expect(second.isErr()).toBe(true);
    const message = second._unsafeUnwrapErr().message;
    expect(message).toContain(`output ${dir} is in use by run run-123 (a.lft · train sft), process ${process.pid} on ${hostname()}`);
    expect(message).toContain("choose another output");
    first.lock.release();
    first.lock.release();
    expect(existsSync(dir)).toBe(false);
    const again = lockOutput(dir, "b.lft · train sft")._unsafeUnwrap();
    writeFileSync(join(dir, "adapter_model.safetensors"), "x");
    again.lock.release();
    expect(readdirSync(dir)).toEqual(["adapter_model.safetensors"]);
  });

  test("a stale lock from a dead process on this host is taken over and reported; another host's is respected", async () => {
    const dir = join(work, "lock-stale");
    mkdirSync(dir);
    const file = join(dir, OUTPUT_LOCK_FILE);
    const dead = await deadPid();
    writeFileSync(file, JSON.stringify({ pid: dead, host: hostname(), start: "1", run: "old-run", what: "x.lft · train sft", since: "then", token: "t" }));
    const taken = lockOutput(dir, "y.lft · train sft")._unsafeUnwrap();
    expect(taken.tookOver?.pid).toBe(dead);
    expect(taken.tookOver?.run).toBe("old-run");
    expect(JSON.parse(readFileSync(file, "utf8")).pid).toBe(process.pid);
    taken.lock.release();
    writeFileSync(file, JSON.stringify({ pid: 1, host: "elsewhere.example", start: null, run: "far", what: "z.lft", since: "then", token: "u" }));
    const refused = lockOutput(dir, "y.lft · train sft");
    expect(refused._unsafeUnwrapErr().message).toContain("this host cannot check; if that run has ended, delete");
    // A lock file cut short (a crash while writing it) and old is stale too.
    writeFileSync(file, "{");
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    lockOutput(dir, "y.lft · train sft")._unsafeUnwrap().lock.release();
    expect(existsSync(file)).toBe(false);
  });

  test("five processes racing for one folder (free, then with a stale lock): exactly one holds it each time", async () => {
    const dir = join(work, "race");
    mkdirSync(dir);
    const racer = join(work, "racer.ts");
    writeFileSync(
      racer,
      `import { existsSync } from "node:fs";
import { lockOutput } from ${JSON.stringify(join(REPO, "core/index.ts"))};
const [dir, go, done] = process.argv.slice(2);
// All racers start together: each says it is ready, then waits for the go file.
console.log("ready");
while (!existsSync(go)) Bun.sleepSync(1);
const taken = lockOutput(dir, "racer");
console.log(taken.isErr() ? "refused" : taken.value.tookOver ? "took-over" : "locked");
// The holder keeps the lock until every racer has answered.
while (taken.isOk() && !existsSync(done)) await Bun.sleep(20);
if (taken.isOk()) taken.value.lock.release();
`,
    );
    let round = 0;
    const race = async (): Promise<string[]> => {
      const go = join(work, `race-go-${++round}`);
      const done = join(work, `race-done-${round}`);
      const procs = Array.from({ length: 5 }, () => Bun.spawn([process.execPath, racer, dir, go, done], { stdout: "pipe", stderr: "pipe" }));
      const readers = procs.map((p) => p.stdout.getReader());
      const lines = readers.map(() => "");
      const nextLine = async (i: number): Promise<string> => {
        while (!lines[i]!.includes("\n")) {
          const { value, done: ended } = await readers[i]!.read();
          if (ended) break;
          lines[i] += new TextDecoder().decode(value);
        }
        const [line = "", ...rest] = lines[i]!.split("\n");
        lines[i] = rest.join("\n");
        return line.trim();
      };
      expect(await Promise.all(procs.map((_, i) => nextLine(i)))).toEqual(["ready", "ready", "ready", "ready", "ready"]);
      writeFileSync(go, "");
      const answers = await Promise.all(procs.map((_, i) => nextLine(i)));
      writeFileSync(done, "");
      await Promise.all(procs.map((p) => p.exited));
      return answers.sort();
    };
    const holders = (answers: string[]): string[] => answers.filter((a) => a !== "refused");
    expect(await race()).toEqual(["locked", "refused", "refused", "refused", "refused"]);
    const dead = await deadPid();
    writeFileSync(join(dir, OUTPUT_LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), start: "1", run: "old", what: "x", since: "then", token: "t" }));
    // One holds it; usually the racer that removed the stale lock ("took-over"), but a racer arriving
    // just after the removal may win it instead ("locked"): either way, only one.
    const second = await race();
    expect(holders(second).length).toBe(1);
    expect(second.filter((a) => a === "refused").length).toBe(4);
    expect(existsSync(join(dir, OUTPUT_LOCK_FILE))).toBe(false);
  }, 30_000);

  test("a file named as output is refused with a clear message", () => {
    const file = join(work, "not-a-folder");
    writeFileSync(file, "keep me");
    expect(lockOutput(file, "a.lft")._unsafeUnwrapErr().message).toBe(
      `output ${file} is a file, not a folder; name a folder for the run's checkpoints and results`,
    );
    expect(readFileSync(file, "utf8")).toBe("keep me");
  });

  test("lft run on a folder another live run holds exits 5 before loading the model and changes nothing there", async () => {
    const dir = join(work, "held");
    mkdirSync(dir);
    const out = join(dir, "out");
    // The first run: trained, its results written; then its process (here, this one) takes the lock as a live run would hold it.
    const first = await lft(dir, "a.lft", recipe(out, 1, 5));
    expect(first.code).toBe(0);
    const held = lockOutput(out, "a.lft · train sft")._unsafeUnwrap();
    held.lock.name("first-run");
    const before = snapshot(out);
    try {
      const second = await lft(dir, "b.lft", recipe(out, 2, 5));
      expect(second.code).toBe(5);
      expect(second.err).toContain(`output ${out} is in use by run first-run (a.lft · train sft), process ${process.pid}`);
      expect(second.out).not.toContain("trainable");
      expect(snapshot(out)).toEqual(before);
      // lft check says so too (a warning: the recipe itself is fine).
      const io = captureIO(dir);
      expect(await main(["check", "b.lft"], io)).toBe(0);
      expect(io.err()).toContain("is in use by run first-run");
    } finally {
      held.lock.release();
    }
    const third = await lft(dir, "b.lft", recipe(out, 2, 5));
    expect(third.code).toBe(0);
    expect(existsSync(join(out, OUTPUT_LOCK_FILE))).toBe(false);
  }, 30_000);

  test("a run that fails after taking the lock releases it", async () => {
    const dir = join(work, "fails");
    const model = join(dir, "broken-model");
    mkdirSync(model, { recursive: true });
    for (const f of readdirSync(STORIES)) copyFileSync(join(STORIES, f), join(model, f));
    // config.json and the tokenizer are fine (the checks before the run pass); the weights are cut short.
    writeFileSync(join(model, "model.safetensors"), readFileSync(join(STORIES, "model.safetensors")).subarray(0, 4096));
    const out = join(dir, "out");
    const failed = await lft(dir, "f.lft", recipe(out, 1, 5).replace(STORIES, model));
    expect(failed.code).toBe(6);
    expect(failed.err).toContain("model.safetensors");
    expect(existsSync(join(out, OUTPUT_LOCK_FILE))).toBe(false);
    expect(lockOutput(out, "next")._unsafeUnwrap().lock.release()).toBeUndefined();
  }, 30_000);

  test("two real processes: the second is refused at once while the first trains; after SIGKILL the lock is taken over", async () => {
    const dir = join(work, "procs");
    mkdirSync(dir);
    const out = join(dir, "out");
    writeFileSync(join(dir, "long.lft"), recipe(out, 1, 100000));
    writeFileSync(join(dir, "other.lft"), recipe(out, 2, 100000));
    const env = { ...process.env, CI: "true", LFT_HOME: ".lft" };
    const first = Bun.spawn([process.execPath, join(REPO, "dsl/cli.ts"), "long.lft"], { cwd: dir, stdout: "pipe", stderr: "pipe", env });
    const reader = first.stderr.getReader();
    let log = "";
    while (!/step\s+\d+\/100000/.test(log)) {
      const { value, done } = await reader.read();
      if (done) break;
      log += new TextDecoder().decode(value);
    }
    const t0 = Date.now();
    const second = Bun.spawnSync([process.execPath, join(REPO, "dsl/cli.ts"), "other.lft"], { cwd: dir, env });
    const refusedIn = Date.now() - t0;
    first.kill("SIGKILL");
    await first.exited;
    expect(second.exitCode).toBe(5);
    expect(second.stderr.toString()).toContain(`is in use by run `);
    expect(second.stderr.toString()).toContain(`process ${first.pid} on ${hostname()}`);
    expect(second.stdout.toString()).not.toContain("trainable");
    expect(refusedIn).toBeLessThan(15_000);
    // Killed: its lock stays behind, stale; the next run takes it over with a warning and trains.
    expect(JSON.parse(readFileSync(join(out, OUTPUT_LOCK_FILE), "utf8")).pid).toBe(first.pid);
    const next = await lft(dir, "short.lft", recipe(out, 3, 2));
    expect(next.code).toBe(0);
    expect(next.err).toContain(`warning: took over the lock on out left by process ${first.pid} on ${hostname()}`);
    expect(existsSync(join(out, OUTPUT_LOCK_FILE))).toBe(false);
  }, 60_000);
});
