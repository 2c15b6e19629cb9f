// The lft command end to end, in-process through main() with captured output (fast), plus one
// real process to see exit codes and that no stack trace reaches the user.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../dsl/cli.ts";
import { ExitCode } from "../../dsl/exit-codes.ts";
import { runLog } from "./fixtures/fake-runner.ts";
import { captureIO, examplesDir, repoRoot } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixtures = `${repoRoot}/test/dsl/fixtures`;
// What the recipes below name on disk: lft check and lft run look for them before anything runs.
mkdirSync(join(dir, "m"));
writeFileSync(join(dir, "m/config.json"), JSON.stringify({ model_type: "llama" }));
writeFileSync(join(dir, "d.json"), "[]");

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

/** Runs `lft argv` with no built-in plugins but lft's own, so results do not move as plugins arrive. */
async function lft(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO(dir);
  const code = await main(argv, io, { builtins: [] });
  return { code, out: io.out(), err: io.err() };
}

const valid = (use: string, extra = "") =>
  `use "${fixtures}/${use}"\nmodel llama "m"\ndataset alpaca "d.json"\nmethod lora { rank = 4 }\ntrain sft for 2 steps${extra}\n`;

describe("lft check", () => {
  test("the examples name what is not available yet: exit 3", async () => {
    const r = await lft("check", `${examplesDir}/lora-sft.lft`);
    expect(r.code).toBe(ExitCode.notAvailable);
    expect(r.err).toContain('method "lora" is not available (no plugin registers it)');
  });

  test("with the plugins a recipe uses, it is ok: exit 0", async () => {
    const r = await lft("check", write("ok.lft", valid("fake-no-runner.ts")), "--trust");
    expect([r.code, r.out, r.err]).toEqual([0, "ok.lft: ok\n", ""]);
  });

  test("mistakes: exit 1, every one with its line and caret, no stack trace", async () => {
    const r = await lft("check", write("bad.lft", valid("fake-no-runner.ts", " { bacth = 2, lr = -1 }")), "--trust");
    expect(r.code).toBe(ExitCode.recipeError);
    expect(r.err).toContain('bad.lft:5:25: train "sft": unknown option "bacth"; did you mean "batch"?');
    expect(r.err).toContain('bad.lft:5:41: train "sft": option "lr" must be >= 0, found -1');
    expect(r.err).toContain(" 5 | train sft for 2 steps { bacth = 2, lr = -1 }");
    expect(r.err).toEndWith("2 errors\n");
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  test("--set applies before the check, and its mistakes point into --set", async () => {
    const name = write("set.lft", valid("fake-no-runner.ts"));
    expect((await lft("check", name, "--set", "method.rank=16", "--set=train.lr=1e-3", "--trust")).code).toBe(0);
    const r = await lft("check", name, "--set", "method.rank=0", "--trust");
    expect(r.code).toBe(ExitCode.recipeError);
    expect(r.err).toContain('--set:1:13: method "lora": option "rank" must be >= 1, found 0\n 1 | method.rank=0\n   |             ^');
  });

  test("a missing file: exit 5; a missing argument or unknown flag: exit 2", async () => {
    expect(await lft("check", "nope.lft")).toMatchObject({ code: ExitCode.ioError, err: "nope.lft: cannot read: no such file\n1 error\n" });
    expect((await lft("check")).code).toBe(ExitCode.usage);
    const flag = await lft("check", "x.lft", "--sett", "a=1");
    expect([flag.code, flag.err.split("\n")[0]]).toEqual([ExitCode.usage, 'lft check: unknown option --sett; did you mean "--set"?']);
    expect((await lft("check", "x.lft", "--set")).err).toContain("--set needs key=value");
  });

  test("a use that cannot load names the package: exit 4", async () => {
    const r = await lft("check", write("nouse.lft", 'use "lft-plugin-nonexistent"\n'));
    expect(r.code).toBe(ExitCode.pluginError);
    expect(r.err).toContain('nouse.lft:1:5: use "lft-plugin-nonexistent": plugin package "lft-plugin-nonexistent" not found from');
  });
});

describe("lft <recipe.lft>", () => {
  test("hands the checked recipe to the runner", async () => {
    runLog.length = 0;
    const r = await lft(write("run.lft", valid("fake-suite.ts")));
    expect([r.code, r.out, r.err]).toEqual([0, "ran train\n", ""]);
    expect(runLog).toEqual(["load m + lora", "train sft 2 steps"]);
  });

  test("without a runner plugin: exit 3 with a clear message, never a crash", async () => {
    const r = await lft(write("norun.lft", valid("fake-no-runner.ts")));
    expect(r.code).toBe(ExitCode.notAvailable);
    expect(r.err).toBe(
      "norun.lft: the recipe is valid, but nothing can run it: no loaded plugin handles runRecipe (needed for: train sft). lft's own runner is the built-in plugin lft-runner; a session without it can still `lft check` recipes.\n",
    );
  });

  test("a run that fails: exit 6", async () => {
    const r = await lft(write("fail.lft", valid("fake-suite.ts", " { lr = 0 }")));
    expect([r.code, r.err]).toEqual([ExitCode.runFailed, "fail.lft: run failed: learning rate 0: nothing would change\n"]);
  });
});

describe("lft fmt", () => {
  const messy = "method   lora{rank=8}\n\n\n\ntrain sft 3 epochs\n";
  test("prints the canonical form", async () => {
    expect(await lft("fmt", write("m.lft", messy))).toEqual({ code: 0, out: "method lora { rank = 8 }\n\ntrain sft for 3 epochs\n", err: "" });
  });
  test("--check: exit 7 for a file that differs, 0 for the examples", async () => {
    expect(await lft("fmt", "--check", write("m2.lft", messy))).toMatchObject({ code: ExitCode.notFormatted, out: "m2.lft: not formatted\n" });
    expect((await lft("fmt", "--check", `${examplesDir}/dpo.lft`, `${examplesDir}/lora-sft.lft`, `${examplesDir}/pretrain-full.lft`)).code).toBe(0);
  });
  test("--write rewrites in place", async () => {
    const name = write("m3.lft", messy);
    expect((await lft("fmt", "--write", name)).err).toBe("formatted m3.lft\n");
    expect(readFileSync(join(dir, name), "utf8")).toBe("method lora { rank = 8 }\n\ntrain sft for 3 epochs\n");
  });
  test("a syntax error: exit 1 and nothing printed on stdout", async () => {
    const r = await lft("fmt", write("m4.lft", "method lora {"));
    expect([r.code, r.out]).toEqual([ExitCode.recipeError, ""]);
  });
});

describe("lft import, plugins, help", () => {
  test("import: recipe on stdout, warnings on stderr", async () => {
    const r = await lft("import", `${repoRoot}/test/fixtures/llamafactory-configs/train_full_qwen3_full_sft.yaml`);
    expect(r.code).toBe(0);
    expect(r.out).toContain("method full\n");
    expect(r.err).toContain("train_full_qwen3_full_sft.yaml:9:1: warning: deepspeed: lft trains on one device;");
    expect(r.out).not.toContain("warning");
  });

  test("import: a recipe lft check would refuse exits non-zero with the reason, and prints no recipe", async () => {
    const r = await lft("import", `${repoRoot}/test/fixtures/llamafactory-configs/extras_oft_llama3_oft_sft.yaml`);
    expect(r.code).not.toBe(0);
    expect(r.out).toBe("");
    expect(r.err).toContain('the imported recipe would fail lft check (line 9 of the recipe): method "oft" is not available');
  });

  test("plugins: what is loaded and what each registered, a recipe's uses included", async () => {
    const bare = await lft("plugins");
    expect(bare.out).toBe("lft 0.1.0  (built in)\n  commands: board, check, fmt, help, import, plan, plugins, run\n");
    const r = await lft("plugins", write("p.lft", `use "${fixtures}/fake-suite.ts"\n`), "--trust");
    expect(r.out).toContain(`fake-suite  (${fixtures}/fake-suite.ts)\n  model families: llama, qwen3\n`);
    expect(r.out).toContain("  methods: freeze, full, lora, qlora\n");
    expect(r.out).toContain("  hooks: runRecipe\n");
  });

  test("help lays out verbs and exit codes; unknown and planned verbs", async () => {
    const help = await lft("help");
    expect(help.out).toMatch(/\n {2}check <recipe\.lft>\.\.\. \[--set key=value\]\.\.\. +validate recipes/);
    expect(help.out).toMatch(/\n {2}3 +valid, but a method, stage/);
    expect(help.out).toMatch(/\n {2}train\.dpo\.beta=0\.2 +a block chosen by its name\n/);
    expect((await lft("--help")).out).toBe(help.out);
    expect((await lft("help", "fmt")).out).toStartWith("usage: lft fmt <recipe.lft>... [--write | --check]\n");
    expect(await lft("chek")).toMatchObject({ code: ExitCode.usage, err: expect.stringContaining('unknown verb "chek"; did you mean "check"?') });
    expect(await lft("models")).toMatchObject({ code: ExitCode.notAvailable });
    expect(await lft("run", "--help")).toMatchObject({ code: ExitCode.ok, out: expect.stringMatching(/^usage: lft run /) });
  });
});

test("a real process: exit status and no stack trace", () => {
  const bad = write("proc.lft", "method lora {\n");
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/dsl/cli.ts`, "check", bad], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
  expect(run.exitCode).toBe(ExitCode.recipeError);
  const err = run.stderr.toString();
  expect(err).toStartWith('proc.lft:1:14: expected "}" in an option block, found the end of the statement');
  expect(err).not.toMatch(/\n\s+at /);
  expect(run.stdout.toString()).toBe("");
});
