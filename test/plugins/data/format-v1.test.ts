// LLaMA-Factory's v1 data format (plugins/data/formats/v1.ts): LF's own v1_sft_demo.jsonl and
// v1_dpo_demo.jsonl load with no row skipped, text parts join as LF joins them, tool calls become function
// turns, and reasoning, media and per-turn loss weights are refused with a reason naming the row and part.
// Ids are checked exactly through the Qwen3 tokenizer and the qwen template.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileDatasetAttr, IGNORE_INDEX, type PairwiseSample, prepareData, type Tokenizer, type TokenSeq } from "../../../core/index.ts";
import { openaiFormat } from "../../../plugins/data/formats/openai.ts";
import { v1Format } from "../../../plugins/data/formats/v1.ts";
import { dataOptions, dataRegistry, LF_DATA, processors } from "../../core/data/helpers/registry.ts";
import { fixtureTokenizer } from "../../core/data/helpers/tokenizer.ts";

const registry = dataRegistry();
const dir = mkdtempSync(join(tmpdir(), "lft-v1-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// dataset_info.json entries may name only files inside their folder: the fixtures are copied in.
for (const f of ["v1_sft_demo.jsonl", "v1_dpo_demo.jsonl", "v1_parts_demo.jsonl"]) copyFileSync(join(LF_DATA, f), join(dir, f));
writeFileSync(
  join(dir, "dataset_info.json"),
  JSON.stringify({
    v1_sft: { file_name: "v1_sft_demo.jsonl", formatting: "v1" },
    v1_dpo: { file_name: "v1_dpo_demo.jsonl", formatting: "v1", ranking: true },
    v1_parts: { file_name: "v1_parts_demo.jsonl", formatting: "v1" },
  }),
);

let qwen: Tokenizer;
beforeAll(async () => {
  qwen = await fixtureTokenizer("qwen3");
});
const run = (dataset: string, kind: "sft" | "pairwise" = "sft") =>
  prepareData({
    registry,
    tokenizer: qwen,
    processor: processors[kind],
    options: dataOptions({ dataset_dir: dir, dataset: [dataset], template: "qwen", cutoff_len: 4096 }),
  });
const enc = (...pieces: string[]) => pieces.flatMap((p) => qwen.encode(p, { addSpecialTokens: false }));
const masked = (n: number) => new Array<number>(n).fill(IGNORE_INDEX);
const lines = async (file: string) =>
  (await Bun.file(join(LF_DATA, file)).text())
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
const QWEN_SYSTEM = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n";

describe("v1 sft (LF's data/v1_sft_demo.jsonl)", () => {
  test("all 500 rows load; row 1 gives exact ids (user turn masked, answer and <|im_end|>\\n learned)", async () => {
    const p = (await run("v1_sft"))._unsafeUnwrap();
    expect(p.report.counts()).toEqual({});
    expect(p.train.length).toBe(500);
    const first = p.train[0] as TokenSeq;
    const prompt = [
      151644, 8948, 198, 2610, 525, 1207, 16948, 11, 3465, 553, 54364, 14817, 13, 1446, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 6023, 151645,
      198, 151644, 77091, 198,
    ];
    expect(prompt).toEqual(enc(`${QWEN_SYSTEM}<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n`));
    const answer = enc("Hello! I am {{name}}, an AI assistant developed by {{author}}. How can I assist you today?<|im_end|>\n");
    expect(first.inputIds).toEqual([...prompt, ...answer]);
    expect(first.labels).toEqual([...masked(prompt.length), ...answer]);
    expect(answer.slice(-2)).toEqual([151645, 198]);
  });

  test("every row converts as the same conversation in OpenAI shape would (text parts joined)", async () => {
    const attr = fileDatasetAttr("v1_sft_demo.jsonl", { formatting: "v1" });
    const openai = fileDatasetAttr("x.jsonl", { formatting: "openai" });
    for (const row of await lines("v1_sft_demo.jsonl")) {
      const plain = {
        messages: row.messages.map((m: { role: string; content: { value: string }[] }) => ({ role: m.role, content: m.content.map((c) => c.value).join("") })),
      };
      expect(v1Format.convert(row, attr)._unsafeUnwrap()).toEqual(openaiFormat.convert(plain, openai)._unsafeUnwrap());
    }
  });
});

describe("v1 parts (hand-written rows)", () => {
  test("text parts are joined with nothing between them; a system message is the system prompt", async () => {
    const p = (await run("v1_parts"))._unsafeUnwrap();
    const first = p.train[0] as TokenSeq;
    const prompt = enc("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nSay hi<|im_end|>\n<|im_start|>assistant\n");
    expect(first.inputIds).toEqual([...prompt, 13048, 0, 151645, 198]);
    expect(qwen.decode([13048, 0])).toBe("Hi!");
    expect(first.labels).toEqual([...masked(prompt.length), 13048, 0, 151645, 198]);
  });

  test("a tool_call part becomes the function turn, a tool message the observation (as the OpenAI shape)", async () => {
    const [, row] = await lines("v1_parts_demo.jsonl");
    const ex = v1Format.convert(row, fileDatasetAttr("v1_parts_demo.jsonl", { formatting: "v1" }))._unsafeUnwrap();
    const openai = {
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: "", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris" } } }] },
        { role: "tool", content: '{"temp": 21}' },
        { role: "assistant", content: "It is 21 degrees." },
      ],
      tools: row.tools,
    };
    expect(ex).toEqual(
      openaiFormat.convert(openai, fileDatasetAttr("x.jsonl", { formatting: "openai", columns: { messages: "messages", tools: "tools" } }))._unsafeUnwrap(),
    );
    if (ex.kind !== "sft") throw new Error("sft expected");
    expect(ex.prompt.map((m) => m.role)).toEqual(["user", "function", "observation"]);
    expect(ex.prompt[1]!.content).toBe('[{"name": "get_weather", "arguments": {"city": "Paris"}}]');
    expect(ex.tools).toContain("get_weather");
  });

  test("media, reasoning and loss weights lft cannot honour are refused, naming the row and the part", async () => {
    const p = (await run("v1_parts"))._unsafeUnwrap();
    expect(p.train.length).toBe(2);
    expect(p.report.counts()).toEqual({ "unsupported-content": 4 });
    const details = p.report.samples("unsupported-content").map((b) => `${b.source.row}: ${b.detail}`);
    expect(details).toEqual([
      "3: messages[0].content[0] is an image_url part: lft trains on text only (multimodal input is not supported yet)",
      "4: messages[1].content[0] is a reasoning part: lft's messages carry no separate thought yet (put it in the text as the template's <think> block)",
      "5: messages[1] (assistant) has loss_weight 0.5: lft trains every assistant turn (mask_history keeps only the last one); per-turn loss weights are not supported",
    ]); // the report keeps three rows per reason; the fourth is row 6's audio_url part:
    const [, , , , , audio] = await lines("v1_parts_demo.jsonl");
    expect(v1Format.convert(audio, fileDatasetAttr("x.jsonl", { formatting: "v1" }))._unsafeUnwrapErr().detail).toBe(
      "messages[0].content[0] is an audio_url part: lft trains on text only (multimodal input is not supported yet)",
    );
    expect(p.report.summary()).toContain("v1_parts_demo.jsonl:3: messages[0].content[0] is an image_url part");
  });

  test("an unknown part type, a malformed tool call and a non-list content each give their reason", () => {
    const attr = fileDatasetAttr("x.jsonl", { formatting: "v1" });
    const row = (content: unknown) => ({
      messages: [
        { role: "user", content },
        { role: "assistant", content: [{ type: "text", value: "ok" }] },
      ],
    });
    expect(v1Format.convert(row([{ type: "pdf", value: "x" }]), attr)._unsafeUnwrapErr().detail).toBe(
      'messages[0].content[0] has part type "pdf"; v1 parts are text, reasoning, tool_call, image_url, video_url, audio_url',
    );
    expect(v1Format.convert(row([{ type: "tool_call", value: "{nope" }]), attr)._unsafeUnwrapErr().detail).toBe(
      "messages[0].content[0] is a tool_call part whose value is not valid JSON text",
    );
    const lw = {
      messages: [
        { role: "user", content: "q", loss_weight: 1 },
        { role: "assistant", content: "a" },
      ],
    };
    expect(v1Format.convert(lw, attr)._unsafeUnwrapErr().detail).toBe(
      "messages[0] (user) has loss_weight 1: lft learns no prompt turn (train_on_prompt learns them all); per-turn loss weights are not supported",
    );
    expect(v1Format.convert(row(42), attr)._unsafeUnwrapErr().detail).toBe("messages[0].content must be a list of {type, value} parts, found number 42");
  });
});

describe("v1 pairwise (LF's data/v1_dpo_demo.jsonl)", () => {
  test("all 10 rows load; row 1's chosen and rejected share the prompt and differ in the answer, ids exact", async () => {
    const p = (await run("v1_dpo", "pairwise"))._unsafeUnwrap();
    expect(p.report.counts()).toEqual({});
    expect(p.train.length).toBe(10);
    const [row] = await lines("v1_dpo_demo.jsonl");
    const text = (m: { content: { value: string }[] }) => m.content.map((c) => c.value).join("");
    const [system, user, chosen] = row.chosen_messages.map(text);
    const rejected = text(row.rejected_messages[2]);
    const pair = p.train[0] as PairwiseSample;
    const prompt = enc(`<|im_start|>system\n${system}<|im_end|>\n<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`);
    expect(prompt.slice(0, 4)).toEqual([151644, 8948, 198, 2610]);
    expect(pair.chosen.inputIds).toEqual([...prompt, ...enc(`${chosen}<|im_end|>\n`)]);
    expect(pair.rejected.inputIds).toEqual([...prompt, ...enc(`${rejected}<|im_end|>\n`)]);
    expect(pair.chosen.labels.slice(0, prompt.length)).toEqual(masked(prompt.length));
  });

  test("conversations that differ before the answer are refused", async () => {
    const attr = fileDatasetAttr("x.jsonl", { formatting: "v1", ranking: true });
    const msg = (role: string, value: string) => ({ role, content: [{ type: "text", value }] });
    const { pairwiseFormat } = await import("../../../plugins/data/formats/pairwise.ts");
    const e = pairwiseFormat.convert(
      { chosen_messages: [msg("user", "a"), msg("assistant", "x")], rejected_messages: [msg("user", "b"), msg("assistant", "y")] },
      attr,
    );
    expect(e._unsafeUnwrapErr().detail).toBe('"chosen_messages" and "rejected_messages" must share the same turns before their last (assistant) turn');
  });
});
