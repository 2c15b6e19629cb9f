// Recipe data blocks → dataset_info entries: files get entries with absolute file names and the
// fields their format implies (pairwise and kto read the row shape from the file), names are looked
// up in dataset_info.json, weights become interleave probabilities, per-dataset limits num_samples.
// Each entry is then fed to the real data worker, so the mapping is checked against what it accepts.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createRegistry,
  DATASET_ROOT,
  type DataKind,
  dataOptionSchema,
  type KtoSample,
  loadTokenizer,
  type PairwiseSample,
  prepareData,
  type TokenSeq,
  validateOptions,
} from "../../../core/index.ts";
import { builtinPlugins } from "../../../plugins/index.ts";
import { type DataSource, selectData } from "../../../plugins/runner/datasets.ts";
import { processors } from "../../core/data/helpers/registry.ts";
import { IDENTITY, REPO, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("datasets");
afterAll(cleanup);
const FIXTURES = join(REPO, "test/fixtures/llamafactory-data");
const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
const tokenizer = loadTokenizer(STORIES)._unsafeUnwrap();

async function select(...sources: DataSource[]) {
  return (await selectData({ baseDir: dir }, sources, registry, dir))._unsafeUnwrap();
}

async function samples(kind: DataKind, ...sources: DataSource[]) {
  const s = await select(...sources);
  const options = validateOptions(dataOptionSchema, { dataset: s.names, template: "default", ...s.mix }, "data")._unsafeUnwrap();
  return (await prepareData({ registry, tokenizer, processor: processors[kind], options, datasetInfo: s.info }))._unsafeUnwrap();
}

describe("data blocks as dataset_info entries", () => {
  test("a file: absolute file_name and its format; .txt is text; columns as written", async () => {
    writeFileSync(join(dir, "notes.txt"), "one line\nanother line\n");
    writeFileSync(join(dir, "qa.json"), JSON.stringify([{ question: "q?", answer: "a." }]));
    const s = await select(
      { format: "alpaca", source: IDENTITY, options: {} },
      { source: "notes.txt", options: {} },
      { format: "alpaca", source: "qa.json", options: { prompt: "question", response: "answer" } },
    );
    expect(s.info).toEqual({
      [IDENTITY]: { file_name: IDENTITY, formatting: "alpaca" },
      "notes.txt": { file_name: join(dir, "notes.txt"), formatting: "text" },
      "qa.json": { file_name: join(dir, "qa.json"), formatting: "alpaca", columns: { prompt: "question", response: "answer" } },
    });
    expect(s.mix).toEqual({});
    const qa = await samples("sft", { format: "alpaca", source: "qa.json", options: { prompt: "question", response: "answer" } });
    expect(tokenizer.decode((qa.train[0] as TokenSeq).inputIds)).toBe("Human: q?</s> \nAssistant: a.</s> \n");
  });

  test("pairwise reads the conversation shape from the file, and yields chosen/rejected pairs", async () => {
    const source = { format: "pairwise", source: join(FIXTURES, "dpo_en_demo.json"), options: {} };
    expect((await select(source)).info[source.source]).toEqual({ file_name: source.source, formatting: "sharegpt", ranking: true });
    const data = await samples("pairwise", source);
    expect(data.train.length).toBeGreaterThan(0);
    const pair = data.train[0] as PairwiseSample;
    expect(pair.chosen.inputIds).not.toEqual(pair.rejected.inputIds);
  });

  test("kto: the shape's messages column is kept when the tag column is renamed", async () => {
    const source = { format: "kto", source: join(FIXTURES, "kto_en_demo.json"), options: { kto_tag: "label" } };
    expect((await select(source)).info[source.source]).toEqual({
      file_name: source.source,
      formatting: "openai",
      columns: { messages: "messages", kto_tag: "label" },
    });
    const tags = new Set((await samples("kto", source)).train.map((s) => (s as KtoSample).desirable));
    expect(tags).toEqual(new Set([true, false]));
  });

  test("a name: the dataset_info.json entry, its file_name made absolute, confined to its folder", async () => {
    const s = await select({ source: "dpo_en_demo", options: { dir: FIXTURES } });
    expect(s.info.dpo_en_demo).toEqual({
      file_name: join(FIXTURES, "dpo_en_demo.json"),
      ranking: true,
      formatting: "sharegpt",
      columns: { messages: "conversations", chosen: "chosen", rejected: "rejected" },
      [DATASET_ROOT]: FIXTURES,
    });
  });

  test("unequal weights interleave with probabilities from the weights; equal weights concatenate", async () => {
    const a = { format: "alpaca", source: IDENTITY, options: { weight: 3 } };
    const b = { source: "alpaca_en_demo", options: { dir: FIXTURES, weight: 1 } };
    expect((await select(a, b)).mix).toEqual({ mix_strategy: "interleave_under", interleave_probs: [0.75, 0.25] });
    expect((await select({ ...a, options: { weight: 2 } }, { ...b, options: { dir: FIXTURES, weight: 2 } })).mix).toEqual({});
  });

  test("max_samples: one limit for all is the data worker's; different limits become num_samples", async () => {
    const a = { format: "alpaca", source: IDENTITY, options: { max_samples: 4 } };
    expect((await select(a)).mix).toEqual({ max_samples: 4 });
    const b = { source: "alpaca_en_demo", options: { dir: FIXTURES, max_samples: 10 } };
    const s = await select({ ...a, options: { max_samples: 40 } }, b);
    // identity has 16 rows, fewer than 40: it is used whole, never drawn twice.
    expect(s.info[IDENTITY]).toEqual({ file_name: IDENTITY, formatting: "alpaca" });
    expect((s.info.alpaca_en_demo as { num_samples?: number }).num_samples).toBe(10);
    expect(s.mix).toEqual({});
    expect((await samples("sft", { ...a, options: { max_samples: 40 } }, b)).rows).toBe(16 + 10);
  });
});
