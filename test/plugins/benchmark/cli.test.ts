// `lft eval` as a user runs it: real processes on the MMLU sample with the shipped stories260K model
// (0-shot: its context is 512 tokens): LF's lines on stdout, eval_results.json + results.json +
// results.log written, the run recorded in the store with a metric per category; `:eval` in the REPL
// gives the same numbers; bad command lines are usage errors that say what to fix.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandEntry, type CommandIO, createRegistry, RunStore, runStorePath } from "../../../core/index.ts";
import { builtinPlugins } from "../../../plugins/index.ts";

const repo = join(import.meta.dir, "..", "..", "..");
const root = mkdtempSync(join(tmpdir(), "lft-eval-cli-"));
const home = join(root, "home");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MODEL = join(repo, "examples/models/stories260K");
const TASK_DIR = join(repo, "test/fixtures");
const env = { ...process.env, CI: "true", LFT_HOME: home };

function lft(args: string[], stdin?: string): { code: number; out: string; err: string } {
  const r = Bun.spawnSync([process.execPath, join(repo, "dsl", "cli.ts"), ...args], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
    ...(stdin === undefined ? {} : { stdin: new TextEncoder().encode(stdin) }),
    env,
  });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

const LINE = /(Average|STEM|Humanities): (\d+\.\d\d)$/gm;
const printed = (out: string) => Object.fromEntries([...out.matchAll(LINE)].map((m) => [m[1]!, Number(m[2])]));

describe("lft eval on the MMLU sample", () => {
  let cliNumbers: Record<string, number> = {};

  test("prints LF's lines, writes the results, records a run with per-category metrics", () => {
    const save = join(root, "cli-out");
    const r = lft(["eval", MODEL, "--task", "mmlu_val", "--task-dir", TASK_DIR, "--n-shot", "0", "--batch-size", "8", "--save-dir", save]);
    expect(r.err).not.toContain("lft eval:");
    expect(r.code).toBe(0);
    cliNumbers = printed(r.out);
    expect(Object.keys(cliNumbers)).toEqual(["Average", "STEM", "Humanities"]);
    // Nothing but the score lines on stdout (progress and file names go to stderr).
    expect(r.out.trim().split("\n")).toHaveLength(3);

    const results = JSON.parse(readFileSync(join(save, "eval_results.json"), "utf8"));
    expect(results.task).toBe("mmlu_val");
    expect(results.nShot).toBe(0);
    expect(results.categories.Average.total).toBe(62);
    expect(results.categories.STEM.total).toBe(43);
    expect(results.subjects.world_religions.total).toBe(19);
    // The printed numbers are the file's, to two decimals; the average counts every question.
    for (const [c, v] of Object.entries(cliNumbers)) expect(results.categories[c].accuracy.toFixed(2)).toBe(v.toFixed(2));
    const subjects = Object.values(results.subjects) as { correct: number; predictions: string }[];
    expect(results.categories.Average.correct).toBe(subjects.reduce((n, s) => n + s.correct, 0));
    const lf = JSON.parse(readFileSync(join(save, "results.json"), "utf8"));
    expect(Object.keys(lf.abstract_algebra)).toHaveLength(11);
    expect(Object.values(lf.abstract_algebra).join("")).toBe(results.subjects.abstract_algebra.predictions);
    expect(readFileSync(join(save, "results.log"), "utf8")).toBe(r.out.trimEnd());

    const store = RunStore.open(runStorePath(env, root))._unsafeUnwrap();
    try {
      const runs = store.listRuns().filter((run) => run.name.includes("mmlu_val"));
      expect(runs).toHaveLength(1);
      const id = runs[0]!.id;
      expect(runs[0]!.status).toBe("completed");
      expect(store.metric(id, "mmlu_val/Average")[0]!.value).toBeCloseTo(results.average, 6);
      expect(store.metric(id, "mmlu_val/STEM")[0]!.value).toBeCloseTo(results.categories.STEM.accuracy, 6);
      expect(store.metricNames(id)).toContain("mmlu_val/subject/high_school_biology");
      expect(store.artifacts(id).map((a) => a.path)).toContain(join(save, "eval_results.json"));
    } finally {
      store.close();
    }
    // The save folder is never overwritten (LF refuses an existing save_dir too).
    const again = lft(["eval", MODEL, "--task", "mmlu_val", "--task-dir", TASK_DIR, "--n-shot", "0", "--save-dir", save]);
    expect(again.code).toBe(5);
    expect(again.err).toContain("already exists and is not empty");
  });

  test("the REPL's :eval gives the same numbers, from a folder or from the session's model (which stays loaded)", () => {
    const save = join(root, "repl-out");
    const r = lft([], `:eval ${MODEL} --task mmlu_val --task-dir ${TASK_DIR} --n-shot 0 --save-dir ${save}\n:quit\n`);
    expect(r.code).toBe(0);
    expect(printed(r.out)).toEqual(cliNumbers);
    expect(JSON.parse(readFileSync(join(save, "eval_results.json"), "utf8")).categories.Average.total).toBe(62);

    const live = join(root, "repl-live");
    const s = lft([], `model "${MODEL}"\n:eval --task mmlu_val --task-dir ${TASK_DIR} --n-shot 0 --save-dir ${live}\n:params\n:quit\n`);
    expect(s.code).toBe(0);
    expect(printed(s.out)).toEqual(cliNumbers);
    expect(s.out).toContain("260.0K parameters (260032)");
    expect(JSON.parse(readFileSync(join(live, "eval_results.json"), "utf8")).model).toBe(MODEL);

    const none = lft([], `:eval --task mmlu_val --task-dir ${TASK_DIR}\n:quit\n`);
    expect(none.out + none.err).toContain("no model is loaded in this session: give MODEL_DIR or run a model statement first");
  });

  test("--adapter: a LoRA adapter a recipe trained is put on the base, and changes the answers", () => {
    const recipe = join(root, "adapter.lft");
    const adapter = join(root, "adapter");
    writeFileSync(
      recipe,
      [
        `model llama "${MODEL}" { template = default }`,
        `dataset alpaca "${join(repo, "examples/data/identity.json")}"`,
        "method lora { rank = 8, alpha = 16, targets = [all] }",
        `train sft for 3 epochs { lr = 3e-2, batch = 4, output = "${adapter}" }`,
        "",
      ].join("\n"),
    );
    expect(lft([recipe]).code).toBe(0);
    const save = join(root, "adapter-out");
    const r = lft(["eval", MODEL, "--adapter", adapter, "--task", "mmlu_val", "--task-dir", TASK_DIR, "--n-shot", "0", "--save-dir", save]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("lora adapter loaded for inference");
    const withAdapter = JSON.parse(readFileSync(join(save, "eval_results.json"), "utf8"));
    const base = JSON.parse(readFileSync(join(root, "cli-out", "eval_results.json"), "utf8"));
    expect(withAdapter.adapter).toBe(adapter);
    const predictions = (x: { subjects: Record<string, { predictions: string }> }) => Object.values(x.subjects).map((s) => s.predictions);
    expect(predictions(withAdapter)).not.toEqual(predictions(base));
  });

  test("in the REPL after a train, :eval scores the trained model with the template the run used", () => {
    const save = join(root, "repl-trained");
    const r = lft(
      [],
      [
        `model llama "${MODEL}" { template = default }`,
        `dataset alpaca "${join(repo, "examples/data/identity.json")}"`,
        "method lora { rank = 8, alpha = 16, targets = [all] }",
        `train sft for 1 epochs { lr = 3e-2, batch = 4, output = "${join(root, "repl-adapter")}" }`,
        `:eval --task mmlu_val --task-dir ${TASK_DIR} --n-shot 0 --save-dir ${save}`,
        ":quit",
        "",
      ].join("\n"),
    );
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(join(save, "eval_results.json"), "utf8"));
    expect(results.template).toBe("default");
    expect(results.changes).toEqual(["sft 4 steps"]);
    expect(Object.keys(printed(r.out))).toEqual(["Average", "STEM", "Humanities"]);
  });

  test("Ctrl-C in the REPL stops :eval between batches", async () => {
    const p = Bun.spawn([process.execPath, join(repo, "dsl", "cli.ts")], { cwd: root, stdin: "pipe", stdout: "pipe", stderr: "pipe", env });
    p.stdin.write(`:eval ${MODEL} --task mmlu_val --task-dir ${TASK_DIR} --n-shot 0 --batch-size 1 --save-dir ${join(root, "stopped")}\n`);
    p.stdin.flush();
    const reader = p.stderr.getReader();
    let err = "";
    let killedAt = 0;
    let stoppedAfter = -1;
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      err += new TextDecoder().decode(value);
      // The first subject's progress line: the eval is running.
      if (killedAt === 0 && err.includes("(abstract algebra)")) {
        killedAt = Date.now();
        p.kill("SIGINT");
      }
      if (stoppedAfter < 0 && err.includes("lft eval: interrupted\n")) {
        stoppedAfter = Date.now() - killedAt;
        p.stdin.end();
      }
    }
    expect(await p.exited).toBe(130);
    expect(stoppedAfter).toBeGreaterThanOrEqual(0);
    // Between two batches of one question each: well under the time the remaining 51 questions take.
    expect(stoppedAfter).toBeLessThan(2000);
    expect(err).not.toContain("(world religions)");
  });

  test("lft import of an LF eval config answers with the lft eval command, which runs as written", () => {
    const yaml = join(root, "llama3_lora_eval.yaml");
    const save = join(root, "imported-out");
    writeFileSync(
      yaml,
      `### model\nmodel_name_or_path: ${MODEL}\n\n### method\nfinetuning_type: lora\n\n### dataset\ntask: mmlu_val\ntask_dir: ${TASK_DIR}\ntemplate: empty\nlang: en\nn_shot: 0\n\n### output\nsave_dir: ${save}\n\n### eval\nbatch_size: 4\n`,
    );
    const r = lft(["import", yaml]);
    expect(r.code).toBe(1);
    const command = r.err.match(/lft runs benchmarks as a command, not a recipe: (lft eval .*)$/m)?.[1];
    expect(command).toBe(`lft eval ${MODEL} --template empty --task mmlu_val --task-dir ${TASK_DIR} --lang en --n-shot 0 --batch-size 4 --save-dir ${save}`);
    const run = lft(command!.split(" ").slice(1));
    expect(run.code).toBe(0);
    expect(printed(run.out)).toEqual(cliNumbers);
  });

  test("lft --help lists the verb", () => {
    expect(lft(["--help"]).out).toMatch(/eval \[MODEL_DIR\] --task/);
  });
});

describe("bad command lines and inputs", () => {
  const registry = createRegistry();
  for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
  const entry = registry.get("commands", "eval")._unsafeUnwrap() as CommandEntry;
  async function call(args: string[]) {
    let out = "";
    let err = "";
    const io: CommandIO = {
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        err += s;
      },
      cwd: root,
    };
    const code = await entry.run(args, io, { registry, mode: "cli" });
    return { code, out, err };
  }

  test("usage errors say what is wrong and show the usage", async () => {
    for (const [args, message] of [
      [[MODEL], "--task is required (e.g. --task mmlu_test)"],
      [["--task", "mmlu_val", "--task-dir", TASK_DIR], "MODEL_DIR is required"],
      [[MODEL, "--task", "mmlu_val", "--task-dir", TASK_DIR, "--seed", "x"], '--seed must be an integer >= 0, got "x"'],
      [[MODEL, "--task", "mmlu"], 'task "mmlu": expected <folder>_<split> with split test or val'],
      [[MODEL, "--task", "mmlu_val", "--lang", "fr"], '--lang must be en or zh, got "fr"'],
      [[MODEL, "--task", "mmlu_val", "--n-shot", "-1"], '--n-shot must be an integer >= 0, got "-1"'],
      [[MODEL, "--task", "mmlu_val", "--batch-size", "0"], '--batch-size must be an integer >= 1, got "0"'],
      [[MODEL, "--task", "mmlu_val", "--bogus"], "--bogus"],
    ] as const) {
      const r = await call([...args]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
      expect(r.err).toContain("usage: lft eval [MODEL_DIR] --task");
    }
  });

  test("a missing task folder, a malformed row, a missing model: located errors, no stack trace", async () => {
    const missing = await call([MODEL, "--task", "mmlu_val", "--task-dir", join(root, "nowhere")]);
    expect(missing.code).toBe(5);
    expect(missing.err).toContain(`${join(root, "nowhere", "mmlu")}: no such task folder`);

    const bad = join(root, "bad", "toy");
    mkdirSync(join(bad, "data", "dev"), { recursive: true });
    mkdirSync(join(bad, "data", "val"), { recursive: true });
    writeFileSync(join(bad, "mapping.json"), JSON.stringify({ s: { name: "s", category: "STEM" } }));
    writeFileSync(join(bad, "data", "dev", "s_dev.csv"), "q,a,b,c,d,A\n");
    writeFileSync(join(bad, "data", "val", "s_val.csv"), "q,a,b,c,d,A\nq2,a,b,c,d,Z\n");
    const row = await call([MODEL, "--task", "toy_val", "--task-dir", join(root, "bad")]);
    expect(row.code).toBe(5);
    expect(row.err).toBe(`lft eval: ${join(bad, "data", "val", "s_val.csv")}:2: the answer must be one of A, B, C, D, found "Z"\n`);

    writeFileSync(join(bad, "data", "val", "s_val.csv"), "q,a,b,c,d,A\n");
    const noModel = await call([join(root, "no-model"), "--task", "toy_val", "--task-dir", join(root, "bad"), "--save-dir", join(root, "x")]);
    expect(noModel.code).toBe(6);
    expect(noModel.err).toContain("no config.json");
    expect(noModel.err).not.toContain("    at ");
  });
});
