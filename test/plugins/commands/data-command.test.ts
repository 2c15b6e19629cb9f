// `lft data preview` from the command line: a dataset_info name, or a data file whose type comes from its
// extension and whose format (and stage) from --format or its first row (plugins/commands/data-file.ts).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataCommand } from "../../../plugins/commands/data.ts";
import { fileDataset } from "../../../plugins/commands/data-file.ts";
import { writeStringParquet } from "../../core/data/helpers/parquet-writer.ts";
import { dataRegistry, LF_DATA } from "../../core/data/helpers/registry.ts";
import { captureIO } from "../../dsl/helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-data-cmd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const QWEN = join(import.meta.dir, "..", "..", "fixtures", "tokenizers", "qwen3");
const registry = dataRegistry();

async function preview(cwd: string, ...args: string[]) {
  const io = captureIO(cwd);
  const code = await dataCommand.run(["preview", ...args, "--model", QWEN, "--count", "1"], io, { mode: "cli", registry });
  return { code, out: io.out(), err: io.err() };
}
const header = (out: string) => out.split("\n")[0];

describe("lft data preview FILE", () => {
  test("LF's v1_sft_demo.jsonl (a path relative to the working directory): v1 format, every row a sample", async () => {
    const r = await preview(LF_DATA, "v1_sft_demo.jsonl", "--template", "qwen");
    expect(r.code).toBe(0);
    expect(header(r.out)).toBe("dataset v1_sft_demo.jsonl · template qwen · sft · 500 rows → 500 samples");
    expect(r.out).toContain(
      "⟦<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n⟧Hello! I am {{name}}",
    );
    expect(r.out.trimEnd().split("\n").at(-1)).toBe("skipped: none");
  });

  test("LF's v1_dpo_demo.jsonl: chosen_messages/rejected_messages make pairs, previewed by the dpo stage", async () => {
    const r = await preview(LF_DATA, join(LF_DATA, "v1_dpo_demo.jsonl"), "--template", "qwen");
    expect(r.code).toBe(0);
    expect(header(r.out)).toBe("dataset v1_dpo_demo.jsonl · template qwen · pairwise · 10 rows → 10 samples");
    expect(r.out).toContain("── sample 1 rejected");
  });

  test("json (sharegpt pairs), csv (alpaca), parquet (alpaca) and txt (text) are each read by their extension", async () => {
    const dpo = await preview(LF_DATA, "dpo_en_demo.json", "--template", "qwen");
    expect(header(dpo.out)).toBe("dataset dpo_en_demo.json · template qwen · pairwise · 300 rows → 300 samples");
    writeFileSync(join(dir, "qa.csv"), "instruction,output\nSay hi,Hi!\nSay bye,Bye!\n");
    const csv = await preview(dir, "qa.csv", "--template", "qwen");
    expect(header(csv.out)).toBe("dataset qa.csv · template qwen · sft · 2 rows → 2 samples");
    expect(csv.out).toContain("user\nSay hi<|im_end|>\n<|im_start|>assistant\n⟧Hi!<|im_end|>\n");
    writeFileSync(join(dir, "qa.parquet"), writeStringParquet({ instruction: ["Say hi"], output: ["Hi!"] }));
    const parquet = await preview(dir, "qa.parquet", "--template", "qwen");
    expect(header(parquet.out)).toBe("dataset qa.parquet · template qwen · sft · 1 rows → 1 samples");
    // pt packs the text into blocks of cutoff_len (2048) tokens, dropping the remainder as LF does.
    const lines = Array.from({ length: 400 }, (_, i) => `Line ${i} of a plain text document about tokenizers.`);
    writeFileSync(join(dir, "notes.txt"), `${lines.join("\n")}\n`);
    const txt = await preview(dir, "notes.txt");
    expect(txt.code).toBe(0);
    expect(header(txt.out)).toBe("dataset notes.txt · template hf · pt · 400 rows → 2 samples");
  });

  test("--format overrides what the first row suggests; on a dataset_info name it is a usage error", async () => {
    writeFileSync(join(dir, "docs.jsonl"), `${JSON.stringify({ text: "Doc one.", source: "a" })}\n${JSON.stringify({ text: "Doc two.", source: "b" })}\n`);
    expect((await fileDataset(join(dir, "docs.jsonl")))._unsafeUnwrap().formatting).toBe("alpaca");
    const forced = await preview(dir, "docs.jsonl", "--format", "text");
    expect(forced.code).toBe(0);
    expect(header(forced.out)).toBe("dataset docs.jsonl · template hf · pt · 2 rows → 0 samples");
    expect(forced.out).toContain("skipped: none"); // alpaca would have skipped both rows (no instruction column)
    const named = await preview(LF_DATA, "identity", "--format", "text", "--dataset-dir", LF_DATA);
    expect(named.code).toBe(2);
    expect(named.err).toContain('--format applies to a data file; "identity" is not one');
  });

  test("the first row decides the format: v1, openai, sharegpt, text, alpaca", async () => {
    const shape = async (name: string, row: unknown) => {
      writeFileSync(join(dir, name), `${JSON.stringify(row)}\n`);
      const f = (await fileDataset(join(dir, name)))._unsafeUnwrap();
      return [f.formatting, f.stage, f.info[name]];
    };
    expect(await shape("a.jsonl", { messages: [{ role: "user", content: [{ type: "text", value: "q" }] }] })).toEqual([
      "v1",
      "sft",
      { file_name: join(dir, "a.jsonl"), formatting: "v1" },
    ]);
    expect((await shape("b.jsonl", { messages: [{ role: "user", content: "q" }], tools: "[]" }))[0]).toBe("openai");
    expect(await shape("c.jsonl", { conversations: [], chosen: {}, rejected: {} })).toEqual([
      "sharegpt",
      "dpo",
      {
        file_name: join(dir, "c.jsonl"),
        formatting: "sharegpt",
        ranking: true,
        columns: { messages: "conversations", chosen: "chosen", rejected: "rejected" },
      },
    ]);
    expect((await shape("d.jsonl", { text: "x" })).slice(0, 2)).toEqual(["text", "pt"]);
    expect((await shape("e.jsonl", { instruction: "x", output: "y" })).slice(0, 2)).toEqual(["alpaca", "sft"]);
    expect((await fileDataset(join(dir, "x.xml")))._unsafeUnwrapErr().message).toContain(
      "unknown data file type; use a .json, .jsonl, .csv, .parquet or .txt file",
    );
  });

  test("a dataset_info name still works", async () => {
    const r = await preview(LF_DATA, "identity", "--dataset-dir", LF_DATA, "--template", "qwen");
    expect(r.code).toBe(0);
    expect(header(r.out)).toBe("dataset identity · template qwen · sft · 91 rows → 91 samples");
  });
});
