// The fuzzer's finds, kept as fixed cases so they stay fixed whatever the generators draw: each failed
// on the code before this suite (a thrown error or an unlocated skip).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRegistry, dataOptionSchema, loadTokenizer, parseSafetensorsHeader, prepareData, validateOptions } from "../../core/index.ts";
import { dataPlugins } from "../../plugins/data/index.ts";
import stages, { supervisedProcessor } from "../../plugins/stages/index.ts";
import { tokenizerDir } from "../core/data/helpers/tokenizer.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-fuzz-reg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const registry = createRegistry();
for (const p of [...dataPlugins, stages]) registry.use(p)._unsafeUnwrap();
const tokenizer = loadTokenizer(tokenizerDir("qwen3"))._unsafeUnwrap();

async function prepare(file: string, text: string, entry: Record<string, unknown> = {}, template = "qwen") {
  writeFileSync(join(dir, file), text);
  writeFileSync(join(dir, "dataset_info.json"), JSON.stringify({ d: { file_name: file, ...entry } }));
  const options = validateOptions(dataOptionSchema, { dataset: ["d"], dataset_dir: dir, template }, "test")._unsafeUnwrap();
  return (await prepareData({ registry, tokenizer, processor: supervisedProcessor, options }))._unsafeUnwrap();
}

test("a safetensors shape nested 50,000 deep is an error naming the tensor, not a stack overflow", () => {
  const depth = 50_000;
  const text = `{"w":{"dtype":"F32","shape":${"[".repeat(depth)}4${"]".repeat(depth)},"data_offsets":[0,16]}}`;
  const r = parseSafetensorsHeader("f.safetensors", new TextEncoder().encode(text), 16);
  expect(r._unsafeUnwrapErr().message).toBe('f.safetensors: tensor "w": shape must be a list of non-negative integers, found an array');
});

test("a .json dataset that is not valid JSON is skipped with the line where it breaks", async () => {
  const p = await prepare("broken.json", '[{"instruction": "a", "output": "b"},\n {"instruction": "c" "output": "d"}]');
  const [bad] = p.report.samples("unparsable");
  expect(bad!.source).toEqual({ dataset: "d", file: "broken.json", row: 0, line: 2 });
  expect(bad!.detail).toBe("not valid JSON: expected ',' or '}' after a property value, found \"\\\"\" at column 22");
});

test("a tool that is not an object is a row problem with its row, not a TypeError", async () => {
  const rows = [
    {
      conversations: [
        { from: "human", value: "hi" },
        { from: "gpt", value: "yo" },
      ],
      tools: [null],
    },
    {
      conversations: [
        { from: "human", value: "hi" },
        { from: "gpt", value: "yo" },
      ],
      tools: [{ name: "f", parameters: { properties: { x: null } } }],
    },
  ];
  const p = await prepare(
    "tools.jsonl",
    rows.map((r) => JSON.stringify(r)).join("\n"),
    { formatting: "sharegpt", columns: { messages: "conversations", tools: "tools" } },
    "default",
  );
  expect(p.train.length).toBe(0);
  const bad = p.report.samples("template-error");
  expect(bad.map((b) => b.source.line)).toEqual([1, 2]);
  expect(bad[0]!.detail).toContain("tool 1 must be a JSON object (a function schema), found null");
  // The default template's tool prompt reads each property's fields: a null property is the row's fault.
  expect(bad[1]!.detail).toContain("tools cannot be formatted");
});
