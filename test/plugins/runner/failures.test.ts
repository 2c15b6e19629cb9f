// Recipes that check clean but cannot run: each ends as a failed run (exit 6) with one message that
// says what was expected, what was found and what to do — never a stack trace. What `lft run`'s disk
// checks find before anything loads (a missing model folder or data file, an eval without data) ends
// earlier, with a located message and the io (5) or error (1) exit status.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { lft, REPO, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("failures");
afterAll(cleanup);

const FIXTURES = join(REPO, "test/fixtures/llamafactory-data");
const sft = (dataset: string) => `model llama "${STORIES}"\n${dataset}\nmethod lora\ntrain sft for 2 steps\n`;

async function failed(name: string, text: string): Promise<string> {
  const r = await lft(dir, name, text);
  expect(r.code).toBe(ExitCode.runFailed);
  expect(r.err).not.toMatch(/\n\s+at /);
  const line = r.err.split("\n").find((l) => l.startsWith(`${name}: run failed: `));
  expect(line).toBeDefined();
  return line!.slice(`${name}: run failed: `.length);
}

/** A recipe `lft run` refuses before loading: its located message (file:line:col: message). */
async function refused(name: string, text: string, code: number): Promise<string> {
  const r = await lft(dir, name, text);
  expect(r.code).toBe(code);
  expect(r.err).not.toMatch(/\n\s+at /);
  const line = r.err.split("\n").find((l) => l.startsWith(`${name}:`));
  expect(line).toBeDefined();
  return line!.replace(/^[^:]+:\d+:\d+: /, "");
}

describe("a run that cannot start fails with a clear message", () => {
  test("a model folder that does not exist", async () => {
    // Not a folder here, and (read as a Hub id) not in the Hugging Face cache, which the tests keep offline.
    const message = await failed("model.lft", 'model llama "models/nowhere"\nchat "hi"\n');
    expect(message).toStartWith('model "models/nowhere": not in the Hugging Face cache');
    expect(message).toContain("HF_HUB_OFFLINE is set");
    expect(message).toEndWith(`(and there is no local folder ${dir}/models/nowhere)`);
    // A path that cannot be a Hub id is refused by the disk check before anything loads.
    expect(await refused("model3.lft", 'model llama "models/a/nowhere"\nchat "hi"\n', ExitCode.ioError)).toBe(`no model folder ${dir}/models/a/nowhere`);
  });

  test("a model family that is not the folder's", async () => {
    expect(await failed("family.lft", `model qwen3 "${STORIES}"\nchat "hi"\n`)).toContain(
      `the recipe says model family "qwen3", but ${STORIES}/config.json has model_type "llama" (family "llama"); write model llama`,
    );
  });

  test("a dataset file that does not exist", async () => {
    expect(await refused("file.lft", sft('dataset alpaca "data/missing.json"'), ExitCode.ioError)).toBe(`no such file ${dir}/data/missing.json`);
  });

  test("a dataset name with a typo, looked up in dataset_info.json", async () => {
    expect(await refused("name.lft", sft(`dataset "identiti" { dir = "${FIXTURES}" }`), ExitCode.ioError)).toBe(
      `no such file ${dir}/identiti, and ${FIXTURES}/dataset_info.json has no dataset "identiti"; did you mean "identity"?`,
    );
  });

  test("a dataset name without a dataset_info.json to find it in", async () => {
    expect(await refused("noinfo.lft", sft('dataset "alpaca_en_demo"'), ExitCode.ioError)).toBe(
      `no such file ${dir}/alpaca_en_demo, and no ${dir}/data/dataset_info.json to look the name up in`,
    );
  });

  test("a format that disagrees with the dataset_info entry", async () => {
    expect(await failed("format.lft", sft(`dataset sharegpt "identity" { dir = "${FIXTURES}" }`))).toContain("the recipe says format sharegpt, but");
  });

  test("a file whose every row is bad", async () => {
    writeFileSync(join(dir, "bad.json"), '[{"instruction": 3, "output": "x"}]');
    expect(await failed("rows.lft", sft('dataset alpaca "bad.json"'))).toBe(
      'data: no usable samples in bad.json (alpaca) (1 row read; skipped 1 row: 1 wrong-type (first: bad.json row 1: column "instruction" must be a string, found number 3))',
    );
  });

  test("eval without a source when nothing was held out", async () => {
    const text = `model llama "${STORIES}"\ndataset alpaca "${join(REPO, "examples/data/identity.json")}"\nmethod lora\ntrain sft for 1 steps { log_every = 1000 }\neval\n`;
    expect(await refused("eval.lft", text, ExitCode.recipeError)).toStartWith("eval has no data: give it a source");
  });
});
