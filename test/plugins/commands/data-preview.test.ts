// `lft data preview` as a function: encoded samples with masked spans marked, token counts, and a
// progress bar while a large set is counted.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { definePlugin } from "../../../core/index.ts";
import { previewDataset } from "../../../plugins/commands/index.ts";
import { progressBar } from "../../../plugins/commands/progress-bar.ts";
import { pairwiseProcessor } from "../../../plugins/stages/index.ts";
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

test("the samples come from the stage's processor: --stage pt gives packed text, an unknown or bare stage fails clearly", async () => {
  const base = { registry: dataRegistry(), tokenizer: byteTokenizer(), datasetDir: LF_DATA, dataset: "c4_demo", template: "default", cutoffLen: 64, count: 1 };
  const text = (await previewDataset({ ...base, stage: "pt" }))._unsafeUnwrap();
  expect(text.split("\n")[0]).toMatch(/^dataset c4_demo · template default · pt · 300 rows → \d+ samples$/);
  // Packed pre-training blocks are cutoff_len long and every token is learned.
  expect(text.split("\n")[1]).toBe("── sample 1 · 64 tokens, 64 learned");
  expect((await previewDataset({ ...base, stage: "dpx" }))._unsafeUnwrapErr().message).toContain('"dpx"');
  // A registered stage whose processor cannot take the set says what it needs.
  expect((await previewDataset({ ...base, stage: "dpo" }))._unsafeUnwrapErr().message).toContain('this stage needs pairwise (set "ranking": true) examples');
  const bare = dataRegistry();
  bare.use(definePlugin({ name: "bare-stage", setup: (api) => api.register.stages({ name: "bare", doc: "checking only" }) }))._unsafeUnwrap();
  expect((await previewDataset({ ...base, registry: bare, stage: "bare" }))._unsafeUnwrapErr().message).toBe(
    'stage "bare" builds no samples (it registers no sample processor)',
  );
});

test("a processor given directly (pairwise, before an rm/dpo stage registers it) previews chosen and rejected", async () => {
  const text = (
    await previewDataset({
      registry: dataRegistry(),
      tokenizer: byteTokenizer(),
      datasetDir: LF_DATA,
      dataset: "dpo_en_demo",
      template: "default",
      processor: pairwiseProcessor,
      count: 1,
    })
  )._unsafeUnwrap();
  expect(text.split("\n")[0]).toMatch(/ · pairwise · /);
  expect(text).toContain("── sample 1 chosen");
  expect(text).toContain("── sample 1 rejected");
});

test("--stage dpo and --stage kto use the registered stages' processors: chosen/rejected, and KTO samples with their KL pair", async () => {
  const base = { registry: dataRegistry(), tokenizer: byteTokenizer(), datasetDir: LF_DATA, template: "default", cutoffLen: 256, count: 1 };
  const dpo = (await previewDataset({ ...base, dataset: "dpo_en_demo", stage: "dpo" }))._unsafeUnwrap();
  expect(dpo.split("\n")[0]).toBe("dataset dpo_en_demo · template default · pairwise · 300 rows → 300 samples");
  expect(dpo).toMatch(/── sample 1 chosen · \d+ tokens, \d+ learned\n⟦Human: Hi! I'd like⟧That sounds like a fun/);
  expect(dpo).toMatch(/── sample 1 rejected · \d+ tokens, \d+ learned/);
  const kto = (await previewDataset({ ...base, dataset: "kto_en_demo", stage: "kto" }))._unsafeUnwrap();
  expect(kto.split("\n")[0]).toBe("dataset kto_en_demo · template default · kto · 300 rows → 300 samples");
  expect(kto).toMatch(/── sample 1 \(desirable\) · \d+ tokens, \d+ learned\n⟦Human: The Federal/);
  expect(kto).toMatch(/── sample 1 KL pair \(the prompt with another example's reply\) · \d+ tokens/);
});
