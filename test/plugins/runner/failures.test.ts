// Recipes that check clean but cannot run: each ends as a failed run (exit 6) with one message that
// says what was expected, what was found and what to do — never a stack trace.
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

describe("a run that cannot start fails with a clear message", () => {
  test("a model folder that does not exist", async () => {
    // Not a folder here, and (read as a Hub id) not in the Hugging Face cache, which the tests keep offline.
    const message = await failed("model.lft", 'model llama "models/nowhere"\nchat "hi"\n');
    expect(message).toStartWith('model "models/nowhere": not in the Hugging Face cache');
    expect(message).toContain("HF_HUB_OFFLINE is set");
    expect(message).toEndWith(`(and there is no local folder ${dir}/models/nowhere)`);
    // A path that cannot be a Hub id gets the loader's message.
    expect(await failed("model3.lft", 'model llama "models/a/nowhere"\nchat "hi"\n')).toBe(
      `model models/a/nowhere: no config.json in ${dir}/models/a/nowhere; a model block names a Hugging Face model folder (config.json, *.safetensors, tokenizer.json)`,
    );
  });

  test("a model family that is not the folder's", async () => {
    expect(await failed("family.lft", `model qwen3 "${STORIES}"\nchat "hi"\n`)).toContain(
      `the recipe says model family "qwen3", but ${STORIES}/config.json has model_type "llama" (family "llama"); write model llama`,
    );
  });

  test("a dataset file that does not exist", async () => {
    expect(await failed("file.lft", sft('dataset alpaca "data/missing.json"'))).toBe(`dataset "data/missing.json": no such file ${dir}/data/missing.json`);
  });

  test("a dataset name with a typo, looked up in dataset_info.json", async () => {
    expect(await failed("name.lft", sft(`dataset "identiti" { dir = "${FIXTURES}" }`))).toBe(
      `dataset "identiti": no such file ${dir}/identiti, and ${FIXTURES}/dataset_info.json has no dataset of that name; did you mean "identity"?`,
    );
  });

  test("a dataset name without a dataset_info.json to find it in", async () => {
    expect(await failed("noinfo.lft", sft('dataset "alpaca_en_demo"'))).toBe(
      `dataset "alpaca_en_demo": no such file ${dir}/alpaca_en_demo, and no data/dataset_info.json to look the name up in (set dir = "<folder with dataset_info.json>")`,
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
    expect(await failed("eval.lft", text)).toStartWith(
      "eval without a source evaluates the held-out part of the training data, and the last train block held out none: set holdout = 10% in it",
    );
  });
});
