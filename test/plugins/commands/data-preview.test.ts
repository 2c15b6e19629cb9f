// `lft data preview` as a function: encoded samples with masked spans marked, token counts, and a
// progress bar while a large set is counted.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { previewDataset } from "../../../plugins/commands/index.ts";
import { progressBar } from "../../../plugins/commands/progress-bar.ts";
import { dataRegistry, LF_DATA } from "../../core/data/helpers/registry.ts";
import { byteTokenizer, fixtureTokenizer } from "../../core/data/helpers/tokenizer.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-preview-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("alpaca_en_demo with llama3: the prompt span is marked, the reply is not, counts add up", async () => {
  const tokenizer = await fixtureTokenizer("llama3");
  const text = (
    await previewDataset({ registry: dataRegistry(), tokenizer, datasetDir: LF_DATA, dataset: "alpaca_en_demo", template: "llama3", count: 1 })
  )._unsafeUnwrap();
  const lines = text.split("\n");
  expect(lines[0]).toBe("dataset alpaca_en_demo · template llama3 · sft · 999 rows → 999 samples");
  expect(lines[1]).toMatch(/^── sample 1 · \d+ tokens, \d+ learned$/);
  expect(text).toContain(
    "⟦<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nDescribe a process of making crepes.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n⟧Making crepes is an easy",
  );
  expect(text).toMatch(/tokens: [\d,]+ in 999 samples \([\d,]+ learned\), longest [\d,]+, mean [\d,]+/);
  expect(lines.at(-1)).toBe("skipped: none");
});

test("a set above 1,000 rows reports progress; bad rows are summarised", async () => {
  writeFileSync(join(dir, "dataset_info.json"), JSON.stringify({ many: { file_name: "many.jsonl" } }));
  const rows = Array.from({ length: 1500 }, (_, i) => JSON.stringify(i === 7 ? { instruction: "q" } : { instruction: `q${i}`, output: `a${i}` }));
  writeFileSync(join(dir, "many.jsonl"), rows.join("\n"));
  const progress: string[] = [];
  const text = (
    await previewDataset({
      registry: dataRegistry(),
      tokenizer: byteTokenizer(),
      datasetDir: dir,
      dataset: "many",
      template: "default",
      count: 1,
      color: true,
      onProgress: (l) => progress.push(l),
    })
  )._unsafeUnwrap();
  expect(progress.at(-1)).toBe(progressBar(1499, 1499));
  expect(progress.length).toBe(2); // one line per processing batch of 1,000 rows
  expect(text).toContain("\x1b[2;100mHuman: q0</s>\nAssistant:\x1b[0ma0</s>\n");
  expect(text.split("\n").at(-1)).toBe('skipped 1 row: 1 missing-column (first: many.jsonl:8: missing column "output")');
});

test("progressBar", () => {
  expect(progressBar(5, 10, 10)).toBe("[#####.....] 5/10 rows (50%)");
  expect(progressBar(0, 0, 4)).toBe("[####] 0/0 rows (100%)");
});
