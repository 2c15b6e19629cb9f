// dataset_info.json as LLaMA-Factory reads it: every fixture dataset that needs no download loads with
// no bad rows; hub datasets and missing files are errors that say why; `columns` replaces defaults.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type DataKind, DEFAULT_COLUMNS, DEFAULT_TAGS, datasetAttr, datasetFiles, loadDatasetInfo, prepareData } from "../../../core/index.ts";
import { dataOptions, dataRegistry, LF_DATA, processors } from "./helpers/registry.ts";
import { byteTokenizer } from "./helpers/tokenizer.ts";

const info = (await loadDatasetInfo(LF_DATA))._unsafeUnwrap();

describe("the fixtures' dataset_info.json", () => {
  const local = Object.entries(info).filter(([, v]) => typeof (v as { file_name?: unknown }).file_name === "string");
  const present = local.filter(([, v]) => existsSync(join(LF_DATA, (v as { file_name: string }).file_name)));

  test("names 7 local datasets whose files are present", () => {
    expect(present.map(([k]) => k).sort()).toEqual([
      "alpaca_en_demo",
      "c4_demo",
      "dpo_en_demo",
      "glaive_toolcall_en_demo",
      "identity",
      "kto_en_demo",
      "wiki_demo",
    ]);
  });

  // Which stage each dataset feeds follows from its entry: ranking → pairwise, kto_tag → kto,
  // a prompt-only column → pt, otherwise sft.
  const kindOf = (name: string): DataKind => {
    const a = datasetAttr(info, name)._unsafeUnwrap();
    return a.ranking ? "pairwise" : a.columns.kto_tag ? "kto" : a.columns.response === undefined && a.formatting === "alpaca" ? "pt" : "sft";
  };
  const expectedRows: Record<string, number> = {
    alpaca_en_demo: 999,
    c4_demo: 300,
    dpo_en_demo: 300,
    glaive_toolcall_en_demo: 300,
    identity: 91,
    kto_en_demo: 300,
    wiki_demo: 30,
  };

  for (const [name] of present) {
    test(`${name} loads every row with no bad row`, async () => {
      const kind = kindOf(name);
      // Packing off, so each row is one sample and the counts can be compared.
      const r = await prepareData({
        registry: dataRegistry(),
        tokenizer: byteTokenizer(),
        processor: processors[kind],
        options: dataOptions({ dataset: [name], template: "default", packing: false, cutoff_len: 64, strict: true }),
      });
      expect(r.isOk()).toBe(true);
      const p = r._unsafeUnwrap();
      expect(p.rows).toBe(expectedRows[name]!);
      expect(p.train.length).toBe(expectedRows[name]!);
      expect(p.report.total).toBe(0);
    });
  }

  test("a local dataset whose file is absent is an error naming the file", () => {
    const a = datasetAttr(info, "alpaca_zh_demo")._unsafeUnwrap();
    const e = datasetFiles(a, LF_DATA)._unsafeUnwrapErr();
    expect(e.message).toBe(`dataset "alpaca_zh_demo": file ${join(LF_DATA, "alpaca_zh_demo.json")} not found`);
  });

  test("a hub dataset is refused with the reason", () => {
    const a = datasetAttr(info, "alpaca_en")._unsafeUnwrap();
    expect(a.loadFrom).toBe("hf_hub");
    expect(datasetFiles(a, LF_DATA)._unsafeUnwrapErr().message).toContain("lft reads local files only");
  });
});

describe("entry parsing", () => {
  test("defaults when an entry has no columns or tags", () => {
    const a = datasetAttr(info, "alpaca_en_demo")._unsafeUnwrap();
    expect(a).toMatchObject({ formatting: "alpaca", ranking: false, split: "train", loadFrom: "file", path: "alpaca_en_demo.json" });
    expect(a.columns).toBe(DEFAULT_COLUMNS);
    expect(a.tags).toBe(DEFAULT_TAGS);
  });

  test("a columns object replaces the defaults: unlisted columns are unset (LLaMA-Factory's rule)", () => {
    const wiki = datasetAttr(info, "wiki_demo")._unsafeUnwrap();
    expect(wiki.columns).toEqual({ prompt: "text" });
    const kto = datasetAttr(info, "kto_en_demo")._unsafeUnwrap();
    expect(kto.columns).toEqual({ messages: "messages", kto_tag: "label" });
    // tags likewise: observation/function/system tags are unset for kto_en_demo.
    expect(kto.tags).toEqual({ role_tag: "role", content_tag: "content", user_tag: "user", assistant_tag: "assistant" });
  });

  test("ranking, split, num_samples, subset and folder are read and type-checked", () => {
    const i = {
      a: { file_name: "x.json", ranking: true, split: "validation", num_samples: 5, subset: "en", folder: "data" },
      b: { file_name: "x.json", num_samples: 0 },
      c: { file_name: "x.json", colums: {} },
      d: { file_name: "x.json", columns: { promt: "q" } },
      e: { file_name: 3 },
      f: { formatting: "alpaca" },
    };
    expect(datasetAttr(i, "a")._unsafeUnwrap()).toMatchObject({ ranking: true, split: "validation", numSamples: 5, subset: "en", folder: "data" });
    expect(datasetAttr(i, "b")._unsafeUnwrapErr().message).toBe('dataset_info.json: dataset "b": "num_samples" must be a positive integer, found number 0');
    expect(datasetAttr(i, "c")._unsafeUnwrapErr().message).toBe('dataset_info.json: dataset "c": unknown key "colums"; did you mean "columns"?');
    expect(datasetAttr(i, "d")._unsafeUnwrapErr().message).toContain('unknown name "promt"; did you mean "prompt"?');
    expect(datasetAttr(i, "e")._unsafeUnwrapErr().message).toBe('dataset_info.json: dataset "e": "file_name" must be a string, found number 3');
    expect(datasetAttr(i, "f")._unsafeUnwrapErr().message).toContain("needs one of");
    expect(datasetAttr(i, "alpaca")._unsafeUnwrapErr().message).toBe('dataset_info.json: undefined dataset "alpaca"');
  });
});
