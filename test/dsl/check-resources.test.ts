// Issue 14 items 3 and 8 through the real `lft` process: `lft check` (and `lft run`, before loading
// anything) reports what would fail after the model loads, each at its line; --syntax-only skips it.

import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode } from "../../dsl/exit-codes.ts";
import { repoRoot } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-resources-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stories = `${repoRoot}/examples/models/stories260K`;
writeFileSync(join(dir, "d.json"), JSON.stringify([{ instruction: "hi", output: "hello" }]));

/** An empty HF cache of our own, so a hub id is never found in (or downloaded into) the user's. */
const hubCache = join(dir, "hf-cache");

function lft(...argv: string[]): { code: number; out: string; err: string } {
  const env = { ...process.env, NO_COLOR: "1", HF_HUB_CACHE: hubCache, HF_HUB_OFFLINE: "1" };
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/dsl/cli.ts`, ...argv], { cwd: dir, env });
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
}

function recipe(name: string, model: string, data = "d.json", tail = ""): string {
  writeFileSync(join(dir, name), `model llama "${model}"\ndataset alpaca "${data}"\nmethod lora { rank = 4 }\ntrain sft for 1 steps${tail}\n`);
  return name;
}

test("a recipe whose files all exist passes", () => {
  const r = lft("check", recipe("ok.lft", stories));
  // A recipe that trains gets the plan's one line (test/dsl/plan-check.test.ts checks its numbers).
  expect(r).toMatchObject({
    code: ExitCode.ok,
    out: expect.stringMatching(/^ok\.lft: ok\n {2}plan: peak [\d.]+ MiB \(MiB: activations [\d.]+, .*\), ~[\d.]+ m?s\/step on this machine\n$/),
  });
});

test("a missing dataset file: exit 5 at the dataset's line, from check and from run", () => {
  const name = recipe("nodata.lft", stories, "missing.json");
  for (const verb of ["check", "run"]) {
    const r = lft(verb, name);
    expect(r.code).toBe(ExitCode.ioError);
    expect(r.err).toContain(`nodata.lft:2:16: no such file ${dir}/missing.json`);
    expect(r.err).not.toContain("loading");
  }
  expect(lft("check", "--syntax-only", name).code).toBe(ExitCode.ok);
});

test("a dataset name missing from dataset_info.json is named with a near miss", () => {
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "data/dataset_info.json"), JSON.stringify({ identity: { file_name: "identity.json" } }));
  const r = lft("check", recipe("names.lft", stories, "identty"));
  expect(r.code).toBe(ExitCode.ioError);
  expect(r.err).toContain('has no dataset "identty"; did you mean "identity"?');
  // The name resolves, but its file does not exist.
  const r2 = lft("check", recipe("names2.lft", stories, "identity"));
  expect(r2.code).toBe(ExitCode.ioError);
  expect(r2.err).toContain(`names ${dir}/data/identity.json, which does not exist`);
});

test("a missing model folder: exit 5 at the model's line, from check and from run; a hub id passes by syntax", () => {
  const name = recipe("nomodel.lft", "models/none here");
  for (const verb of ["check", "run"]) {
    const r = lft(verb, name);
    expect(r.code).toBe(ExitCode.ioError);
    expect(r.err).toContain(`nomodel.lft:1:13: no model folder ${dir}/models/none here`);
  }
  expect(lft("check", recipe("hub.lft", "someorg/some-model")).code).toBe(ExitCode.ok);
});

test("a hub id in the local HF cache is checked like a folder", () => {
  const commit = "a".repeat(40);
  const repo = join(hubCache, "models--someorg--cached");
  mkdirSync(join(repo, "refs"), { recursive: true });
  mkdirSync(join(repo, "snapshots", commit), { recursive: true });
  writeFileSync(join(repo, "refs/main"), commit);
  writeFileSync(join(repo, "snapshots", commit, "config.json"), "{ broken");
  const r = lft("check", recipe("cached.lft", "someorg/cached"));
  expect(r.code).toBe(ExitCode.ioError);
  expect(r.err).toContain(`snapshots/${commit}/config.json: not valid JSON`);
});

test("a model folder whose config.json does not parse, or whose model_type no family reads", () => {
  mkdirSync(join(dir, "broken"), { recursive: true });
  writeFileSync(join(dir, "broken/config.json"), "{ not json");
  const r = lft("check", recipe("broken.lft", "broken"));
  expect(r.code).toBe(ExitCode.ioError);
  expect(r.err).toContain("broken/config.json: not valid JSON");
  mkdirSync(join(dir, "odd"), { recursive: true });
  writeFileSync(join(dir, "odd/config.json"), JSON.stringify({ model_type: "zzzformer" }));
  writeFileSync(join(dir, "odd.lft"), 'model "odd"\ndataset alpaca "d.json"\nmethod lora { rank = 4 }\ntrain sft for 1 steps\n');
  const r2 = lft("check", "odd.lft");
  expect(r2.code).toBe(ExitCode.notAvailable);
  expect(r2.err).toContain("odd.lft:1:7: ");
  expect(r2.err).toContain('no model family reads model_type "zzzformer"');
});

test("template = chatml on a tokenizer without <|im_end|>: at the template option", () => {
  writeFileSync(
    join(dir, "chatml.lft"),
    `model llama "${stories}" { template = chatml }\ndataset alpaca "d.json"\nmethod lora { rank = 4 }\ntrain sft for 1 steps\n`,
  );
  const r = lft("check", "chatml.lft");
  expect(r.code).toBe(ExitCode.recipeError);
  expect(r.err).toMatch(/chatml\.lft:1:\d+: template chatml needs the special tokens <\|im_end\|>, <\|im_start\|>/);
  expect(lft("check", "--syntax-only", "chatml.lft").code).toBe(ExitCode.ok);
});

test("eval with no data, and eval after a train block that holds data out", () => {
  const r = lft("check", recipe("eval.lft", stories, "d.json", "\neval"));
  expect(r.code).toBe(ExitCode.recipeError);
  expect(r.err).toContain("eval.lft:5:1: eval has no data");
  writeFileSync(
    join(dir, "held.lft"),
    `model llama "${stories}"\ndataset alpaca "d.json"\nmethod lora { rank = 4 }\ntrain sft for 1 steps { holdout = 10% }\neval\n`,
  );
  expect(lft("check", "held.lft").code).toBe(ExitCode.ok);
});

test("an output folder that cannot be written", () => {
  const locked = join(dir, "locked");
  mkdirSync(locked, { recursive: true });
  chmodSync(locked, 0o500);
  const r = lft("check", recipe("out.lft", stories, "d.json", ` { output = "locked/run" }`));
  chmodSync(locked, 0o700);
  // root can write anywhere: then there is nothing to report.
  if (process.getuid?.() === 0) return expect(r.code).toBe(ExitCode.ok);
  expect(r.code).toBe(ExitCode.ioError);
  expect(r.err).toContain("is not writable");
});
