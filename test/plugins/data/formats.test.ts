// Dataset format plugins: real rows of the LLaMA-Factory fixtures become the common example, and a
// row that cannot (missing column, wrong type, bad roles, bad turn count) gives a reason.
import { describe, expect, test } from "bun:test";
import { type DatasetAttr, type DatasetFormat, DEFAULT_TAGS, datasetAttr, fileDatasetAttr, loadDatasetInfo } from "../../../core/index.ts";
import { alpacaFormat } from "../../../plugins/data/formats/alpaca.ts";
import { ktoFormat } from "../../../plugins/data/formats/kto.ts";
import { openaiFormat } from "../../../plugins/data/formats/openai.ts";
import { pairwiseFormat } from "../../../plugins/data/formats/pairwise.ts";
import { sharegptFormat } from "../../../plugins/data/formats/sharegpt.ts";
import { textFormat } from "../../../plugins/data/formats/text.ts";
import { LF_DATA } from "../../core/data/helpers/registry.ts";

const info = (await loadDatasetInfo(LF_DATA))._unsafeUnwrap();
const attr = (name: string) => datasetAttr(info, name)._unsafeUnwrap();
const rows = async (file: string) => (await Bun.file(`${LF_DATA}/${file}`).json()) as Record<string, unknown>[];
const ok = (f: DatasetFormat, row: unknown, a: DatasetAttr) => f.convert(row, a)._unsafeUnwrap();
const bad = (f: DatasetFormat, row: unknown, a: DatasetAttr) => f.convert(row, a)._unsafeUnwrapErr();

describe("alpaca", () => {
  test("alpaca_en_demo row 1: instruction (empty input dropped) and output", async () => {
    const [row] = await rows("alpaca_en_demo.json");
    const ex = ok(alpacaFormat, row, attr("alpaca_en_demo"));
    expect(ex.kind).toBe("sft");
    if (ex.kind !== "sft") return;
    expect(ex.prompt).toEqual([{ role: "user", content: "Describe a process of making crepes." }]);
    expect(ex.response.content.startsWith("Making crepes is an easy and delicious process!")).toBe(true);
    expect([ex.system, ex.tools]).toEqual(["", ""]);
  });

  test("instruction and input are joined with a newline; history pairs come first; system column", () => {
    const a = fileDatasetAttr("x.json", { columns: { prompt: "instruction", query: "input", response: "output", history: "history", system: "system" } });
    const ex = ok(alpacaFormat, { instruction: "Translate", input: "bonjour", output: "hello", history: [["q1", "a1"]], system: "be brief" }, a);
    expect(ex).toEqual({
      kind: "sft",
      prompt: [
        { role: "user", content: "q1" },
        { role: "assistant", content: "a1" },
        { role: "user", content: "Translate\nbonjour" },
      ],
      response: { role: "assistant", content: "hello" },
      system: "be brief",
      tools: "",
    });
  });

  test("wiki_demo (prompt column only) gives plain text for pre-training", () => {
    expect(ok(alpacaFormat, { text: "Anarchism is a political philosophy." }, attr("wiki_demo"))).toEqual({
      kind: "text",
      text: "Anarchism is a political philosophy.",
    });
  });

  test("bad rows: missing output, wrong types, a malformed history pair, not an object", () => {
    const a = attr("alpaca_en_demo");
    expect(bad(alpacaFormat, { instruction: "x" }, a)).toEqual({ reason: "missing-column", detail: 'missing column "output"' });
    expect(bad(alpacaFormat, { instruction: 5, output: "y" }, a)).toEqual({
      reason: "wrong-type",
      detail: 'column "instruction" must be a string, found number 5',
    });
    expect(bad(alpacaFormat, { instruction: "x", output: ["y"] }, a).reason).toBe("wrong-type");
    const h = fileDatasetAttr("x.json", { columns: { prompt: "instruction", response: "output", history: "history" } });
    expect(bad(alpacaFormat, { instruction: "x", output: "y", history: [["only one"]] }, h).detail).toBe(
      'column "history" item 0 must be a [prompt, response] pair of strings, found a list of 1',
    );
    expect(bad(alpacaFormat, [1, 2], a)).toEqual({ reason: "not-an-object", detail: "a row must be an object, found a list of 2" });
  });
});

describe("sharegpt", () => {
  test("glaive_toolcall_en_demo row 1: function_call and observation turns, tools kept as JSON text", async () => {
    const [row] = await rows("glaive_toolcall_en_demo.json");
    const ex = ok(sharegptFormat, row, attr("glaive_toolcall_en_demo"));
    if (ex.kind !== "sft") throw new Error("expected sft");
    expect(ex.prompt.map((m) => m.role)).toEqual(["user", "assistant", "user", "function", "observation", "assistant", "user"]);
    expect(ex.prompt[3]!.content).toBe('{"name": "search_recipes", "arguments": {"ingredients": ["chicken", "bell peppers", "rice"]}}');
    expect(ex.response.role).toBe("assistant");
    expect(JSON.parse(ex.tools)[0].name).toBe("search_recipes");
  });

  test("a leading system turn becomes the system prompt", () => {
    const ex = ok(
      sharegptFormat,
      {
        conversations: [
          { from: "system", value: "S" },
          { from: "human", value: "Q" },
          { from: "gpt", value: "A" },
        ],
      },
      fileDatasetAttr("x.json", { formatting: "sharegpt" }),
    );
    expect(ex).toMatchObject({ system: "S", prompt: [{ role: "user", content: "Q" }], response: { role: "assistant", content: "A" } });
  });

  test("roles out of order and odd turn counts are bad rows", () => {
    const a = fileDatasetAttr("x.json", { formatting: "sharegpt" });
    expect(
      bad(
        sharegptFormat,
        {
          conversations: [
            { from: "gpt", value: "A" },
            { from: "human", value: "Q" },
          ],
        },
        a,
      ),
    ).toEqual({ reason: "invalid-role", detail: 'conversations[0] has role string "gpt" where "human" or "observation" is expected' });
    expect(bad(sharegptFormat, { conversations: [{ from: "human", value: "Q" }] }, a).reason).toBe("invalid-turns");
    expect(
      bad(
        sharegptFormat,
        {
          conversations: [
            { from: "human", value: 3 },
            { from: "gpt", value: "A" },
          ],
        },
        a,
      ).reason,
    ).toBe("wrong-type");
    expect(bad(sharegptFormat, {}, a)).toEqual({ reason: "missing-column", detail: 'missing column "conversations"' });
  });
});

describe("openai", () => {
  test("tool_calls become a function turn (arguments parsed), consecutive tool results merge", () => {
    const row = {
      messages: [
        { role: "system", content: "sys" },
        { role: "user", content: "weather in Paris and Rome?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { type: "function", function: { name: "weather", arguments: '{"city": "Paris"}' } },
            { type: "function", function: { name: "weather", arguments: { city: "Rome" } } },
          ],
        },
        { role: "tool", content: "20C" },
        { role: "tool", content: "25C" },
        { role: "assistant", content: "Paris 20C, Rome 25C." },
      ],
    };
    const ex = ok(openaiFormat, row, fileDatasetAttr("x.jsonl", { formatting: "openai" }));
    expect(ex).toEqual({
      kind: "sft",
      prompt: [
        { role: "user", content: "weather in Paris and Rome?" },
        { role: "function", content: '[{"name": "weather", "arguments": {"city": "Paris"}}, {"name": "weather", "arguments": {"city": "Rome"}}]' },
        { role: "observation", content: "20C\n</tool_response>\n<tool_response>\n25C" },
      ],
      response: { role: "assistant", content: "Paris 20C, Rome 25C." },
      system: "sys",
      tools: "",
    });
  });
});

describe("pairwise", () => {
  test("dpo_en_demo row 1 (sharegpt ranking shape): prompt turns, chosen and rejected", async () => {
    const [row] = await rows("dpo_en_demo.json");
    const ex = ok(pairwiseFormat, row, attr("dpo_en_demo"));
    if (ex.kind !== "pairwise") throw new Error("expected pairwise");
    expect(ex.prompt).toEqual([
      { role: "user", content: "Hi! I'd like to create a new language game simulating the first person perspective of a character named Angela." },
    ]);
    expect(ex.chosen.content.startsWith("That sounds like a fun and engaging idea!")).toBe(true);
    expect(ex.rejected.role).toBe("assistant");
    expect(ex.rejected.content).toBe((row as { rejected: { value: string } }).rejected.value);
  });

  test("alpaca ranking shape: chosen and rejected strings", () => {
    const a = fileDatasetAttr("x.json", { ranking: true, columns: { prompt: "instruction", chosen: "chosen", rejected: "rejected" } });
    expect(ok(pairwiseFormat, { instruction: "Q", chosen: "good", rejected: "bad" }, a)).toEqual({
      kind: "pairwise",
      prompt: [{ role: "user", content: "Q" }],
      system: "",
      tools: "",
      chosen: { role: "assistant", content: "good" },
      rejected: { role: "assistant", content: "bad" },
    });
    expect(bad(pairwiseFormat, { instruction: "Q", chosen: "good" }, a)).toEqual({ reason: "missing-column", detail: 'missing column "rejected"' });
  });

  test("a ranking conversation must end on the user's turn", () => {
    const a = { ...attr("dpo_en_demo") };
    const row = {
      conversations: [
        { from: "human", value: "Q" },
        { from: "gpt", value: "A" },
      ],
      chosen: { from: "gpt", value: "c" },
      rejected: { from: "gpt", value: "r" },
    };
    expect(bad(pairwiseFormat, row, a).reason).toBe("invalid-turns");
  });
});

describe("kto and text", () => {
  test("kto_en_demo row 1: openai-style tags, label true → desirable", async () => {
    const [row] = await rows("kto_en_demo.json");
    const ex = ok(ktoFormat, row, attr("kto_en_demo"));
    if (ex.kind !== "kto") throw new Error("expected kto");
    expect(ex.desirable).toBe(true);
    expect(ex.prompt[0]!.content.startsWith("The Federal Trade Commission is going after spyware")).toBe(true);
    expect(ex.response.content.startsWith("Ooh ooh ah ah!")).toBe(true);
  });

  test("a kto_tag that is not a boolean is a bad row", () => {
    expect(
      bad(
        ktoFormat,
        {
          messages: [
            { role: "user", content: "q" },
            { role: "assistant", content: "a" },
          ],
          label: "yes",
        },
        attr("kto_en_demo"),
      ),
    ).toEqual({ reason: "wrong-type", detail: 'column "label" (kto_tag) must be true or false, found string "yes"' });
  });

  test("text: the text column, empty documents counted", () => {
    const a = fileDatasetAttr("t.txt", { formatting: "text" });
    expect(ok(textFormat, { text: "doc" }, a)).toEqual({ kind: "text", text: "doc" });
    expect(bad(textFormat, { text: "  " }, a)).toEqual({ reason: "empty", detail: 'column "text" is empty' });
    expect(DEFAULT_TAGS.user_tag).toBe("human");
  });
});
