// The whole in-memory pipeline on fixture data: mixing, the validation split, selection, bad rows
// (counted, or an error under strict), the stage check, and the on-disk cache.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareData, processOptions, type SampleProcessor, type TokenSeq } from "../../../core/index.ts";
import { writeStringParquet } from "./helpers/parquet-writer.ts";
import { dataOptions, dataRegistry, LF_DATA, processors } from "./helpers/registry.ts";
import { byteTokenizer } from "./helpers/tokenizer.ts";

const registry = dataRegistry();
const tokenizer = byteTokenizer();
const dir = mkdtempSync(join(tmpdir(), "lft-pipeline-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// dataset_info.json entries may name only files inside their folder: the fixtures are copied in.
for (const f of ["identity.json", "alpaca_en_demo.json", "dpo_en_demo.json", "kto_en_demo.json"]) copyFileSync(join(LF_DATA, f), join(dir, f));

writeFileSync(
  join(dir, "dataset_info.json"),
  JSON.stringify({
    identity: { file_name: "identity.json" },
    alpaca: { file_name: "alpaca_en_demo.json" },
    identity_x3: { file_name: "identity.json", num_samples: 273 },
    mixed: { file_name: "mixed.jsonl" },
    dpo: {
      file_name: "dpo_en_demo.json",
      ranking: true,
      formatting: "sharegpt",
      columns: { messages: "conversations", chosen: "chosen", rejected: "rejected" },
    },
  }),
);
writeFileSync(
  join(dir, "mixed.jsonl"),
  `${[
    JSON.stringify({ instruction: "q1", output: "a1" }),
    JSON.stringify({ instruction: "q2" }),
    "{not json",
    JSON.stringify({ instruction: "q4", output: 4 }),
    "",
    JSON.stringify({ instruction: "q6", output: "a6" }),
  ].join("\n")}\n`,
);

const run = (values: Record<string, unknown>, kind: "sft" | "pairwise" = "sft") =>
  prepareData({
    registry,
    tokenizer,
    processor: processors[kind],
    options: dataOptions({ dataset_dir: dir, template: "default", cutoff_len: 256, ...values }),
  });

describe("prepareData", () => {
  test("two datasets interleaved until the first runs out, then a 10% validation split", async () => {
    const p = (await run({ dataset: ["identity", "alpaca"], mix_strategy: "interleave_under", val_size: 0.1 }))._unsafeUnwrap();
    // Taking turns: 91 identity rows and the first 91 alpaca rows.
    expect(p.train.length + p.eval.length).toBe(182);
    expect(p.eval.length).toBe(Math.ceil(0.1 * 182));
    expect(p.rows).toBe(91 + 999);
  });

  test("num_samples over-samples a dataset; max_samples keeps the first rows", async () => {
    expect((await run({ dataset: ["identity_x3"] }))._unsafeUnwrap().train.length).toBe(273);
    expect((await run({ dataset: ["alpaca"], max_samples: 10 }))._unsafeUnwrap().train.length).toBe(10);
  });

  test("bad rows are skipped and counted with file and line; nothing disappears", async () => {
    const p = (await run({ dataset: ["mixed"] }))._unsafeUnwrap();
    expect(p.train.length).toBe(2);
    expect(p.report.counts()).toEqual({ "blank-line": 1, "missing-column": 1, unparsable: 1, "wrong-type": 1 });
    expect(p.report.summary()).toContain('1 missing-column (first: mixed.jsonl:2: missing column "output")');
    expect(p.report.samples("wrong-type")[0]!.source).toEqual({ dataset: "mixed", file: "mixed.jsonl", row: 4, line: 4 });
    expect(tokenizer.decode((p.train[1] as TokenSeq).inputIds)).toBe("Human: q6</s>\nAssistant:a6</s>\n");
  });

  test("strict: the first bad row is an error naming the file and line", async () => {
    const e = (await run({ dataset: ["mixed"], strict: true }))._unsafeUnwrapErr();
    expect(e.message).toBe('mixed.jsonl:2: missing column "output" (strict: bad rows are errors)');
  });

  test("a dataset that cannot feed the stage is refused before reading", async () => {
    const e = (await run({ dataset: ["alpaca"] }, "pairwise"))._unsafeUnwrapErr();
    expect(e.message).toBe(
      `dataset "alpaca" (file alpaca_en_demo.json, format alpaca) gives sft/text examples; this stage needs pairwise (set "ranking": true) examples`,
    );
    expect((await run({ dataset: ["dpo"] }, "pairwise"))._unsafeUnwrap().train.length).toBe(300);
  });

  test("eval_dataset gives the evaluation set; template options are checked against the template", async () => {
    const p = (await run({ dataset: ["alpaca"], eval_dataset: ["identity"], max_samples: 5 }))._unsafeUnwrap();
    expect([p.train.length, p.eval.length]).toEqual([5, 5]);
    const e = await prepareData({
      registry,
      tokenizer,
      processor: processors.sft,
      options: dataOptions({ dataset_dir: dir, dataset: ["identity"], template: "qwen3" }),
      templateOptions: { enable_thinkin: false },
    });
    expect(e._unsafeUnwrapErr().message).toContain('chat template "qwen3": unknown option "enable_thinkin"; did you mean "enable_thinking"?');
    const m = await run({ dataset: ["identity"], mask_history: true, train_on_prompt: true });
    expect(m._unsafeUnwrapErr().message).toBe("mask_history cannot be combined with train_on_prompt");
  });
});

describe("the tokenised cache", () => {
  test("a second run reads the cache; other options, another template or a changed file miss it", async () => {
    const cache = join(dir, "cache");
    writeFileSync(join(dir, "small.jsonl"), `${JSON.stringify({ instruction: "q", output: "a" })}\n`);
    writeFileSync(join(dir, "dataset_info.json"), JSON.stringify({ small: { file_name: "small.jsonl" }, identity: { file_name: "identity.json" } }));
    const go = (v: Record<string, unknown> = {}) => run({ dataset: ["identity", "small"], cache_dir: cache, ...v });
    const first = (await go())._unsafeUnwrap();
    expect(first.fromCache).toBe(false);
    expect(first.cachePath).not.toBeNull();
    const second = (await go())._unsafeUnwrap();
    expect(second.fromCache).toBe(true);
    expect(second.train).toEqual(first.train);
    expect(second.rows).toBe(first.rows);
    expect((await go({ cutoff_len: 64 }))._unsafeUnwrap().fromCache).toBe(false);
    expect((await go({ template: "alpaca" }))._unsafeUnwrap().fromCache).toBe(false);
    writeFileSync(join(dir, "small.jsonl"), `${JSON.stringify({ instruction: "q", output: "b" })}\n`);
    const changed = (await go())._unsafeUnwrap();
    expect(changed.fromCache).toBe(false);
    expect(changed.train).not.toEqual(first.train);
    expect((await go({ overwrite_cache: true }))._unsafeUnwrap().fromCache).toBe(false);
  });
});

describe("more kinds through the pipeline", () => {
  test("kto, neat-packed sft and pairwise samples survive the cache byte for byte; Parquet datasets load", async () => {
    const cache = join(dir, "cache2");
    writeFileSync(join(dir, "rows.parquet"), writeStringParquet({ instruction: ["q1", "q2", "q3"], output: ["a1", "a2", "a3"] }));
    writeFileSync(
      join(dir, "dataset_info.json"),
      JSON.stringify({
        kto: {
          file_name: "kto_en_demo.json",
          formatting: "sharegpt",
          columns: { messages: "messages", kto_tag: "label" },
          tags: { role_tag: "role", content_tag: "content", user_tag: "user", assistant_tag: "assistant" },
        },
        dpo: {
          file_name: "dpo_en_demo.json",
          ranking: true,
          formatting: "sharegpt",
          columns: { messages: "conversations", chosen: "chosen", rejected: "rejected" },
        },
        pq: { file_name: "rows.parquet" },
      }),
    );
    const twice = async (kind: "sft" | "pairwise" | "kto", values: Record<string, unknown>) => {
      const go = () =>
        prepareData({
          registry,
          tokenizer,
          processor: processors[kind],
          options: dataOptions({ dataset_dir: dir, template: "default", cutoff_len: 256, cache_dir: cache, max_samples: 40, ...values }),
        });
      const a = (await go())._unsafeUnwrap();
      const b = (await go())._unsafeUnwrap();
      expect([a.fromCache, b.fromCache]).toEqual([false, true]);
      expect(b.train).toEqual(a.train);
      return a;
    };
    const kto = await twice("kto", { dataset: ["kto"] });
    expect(kto.train.length).toBe(40);
    await twice("pairwise", { dataset: ["dpo"] });
    const packed = await twice("sft", { dataset: ["pq"], neat_packing: true });
    // "Human: q1</s>\nAssistant:" (21 ids) + "a1</s>\n" (4): three samples of 25 in one block of 256 + 1 (padded as LLaMA-Factory pads).
    expect((packed.train[0] as TokenSeq).segmentIds).toEqual([...Array(25).fill(1), ...Array(25).fill(2), ...Array(25).fill(3), ...Array(182).fill(0)]);
  });
});

describe("the stage's processor builds the samples", () => {
  test("the pipeline hands it accepted examples in preprocessing batches, with the options its packing rule gives", async () => {
    const seen: { size: number; packing: boolean; addsBos: boolean }[] = [];
    const counting: SampleProcessor<"sft"> = {
      kind: "sft",
      accepts: ["sft"],
      needs: "sft (prompt and response)",
      packing: { byDefault: true, neat: false },
      build: (examples, ctx) => {
        seen.push({ size: examples.length, packing: ctx.options.packing, addsBos: ctx.addsBos });
        return { samples: examples.map((_, i) => ({ inputIds: [i], labels: [i] })), bad: [] };
      },
    };
    const p = (
      await prepareData({
        registry,
        tokenizer,
        processor: counting,
        options: dataOptions({ dataset_dir: LF_DATA, dataset: ["identity"], preprocessing_batch_size: 40 }),
      })
    )._unsafeUnwrap();
    expect(seen).toEqual([
      { size: 40, packing: true, addsBos: false },
      { size: 40, packing: true, addsBos: false },
      { size: 11, packing: true, addsBos: false },
    ]);
    expect(p.train.map((s) => s.inputIds[0])).toEqual([...Array(40).keys(), ...Array(40).keys(), ...Array(11).keys()]);
  });

  test("processOptions: packing defaults and neat packing follow the processor, not a stage name", () => {
    const o = dataOptions({ dataset: ["x"] });
    expect(processOptions({ packing: { byDefault: true, neat: false } }, o).packing).toBe(true);
    expect(processOptions({ packing: { byDefault: true, neat: false } }, { ...o, neat_packing: true }).neatPacking).toBe(false);
    expect(processOptions({ packing: { byDefault: false, neat: true } }, o).packing).toBe(false);
    expect(processOptions({ packing: { byDefault: false, neat: true } }, { ...o, neat_packing: true })).toMatchObject({ packing: true, neatPacking: true });
    expect(processOptions({}, { ...o, packing: true, neat_packing: true })).toMatchObject({ packing: false, neatPacking: false });
  });
});
