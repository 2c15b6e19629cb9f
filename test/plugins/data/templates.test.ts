// Chat templates on real rows with real tokenizers. Expected ids are built from LLaMA-Factory's slot
// strings written out here by hand (each slot text encoded on its own, as LLaMA-Factory does), with
// the special tokens' ids checked against their known values, so a wrong slot, a wrong mask or a
// special token split into text all fail.
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type ChatEncoder, IGNORE_INDEX, loadTokenizer, type Message, type SftExample, type Tokenizer } from "../../../core/index.ts";
import { encodeSupervised } from "../../../plugins/stages/index.ts";
import { dataRegistry, LF_DATA } from "../../core/data/helpers/registry.ts";
import { fixtureTokenizer } from "../../core/data/helpers/tokenizer.ts";

const registry = dataRegistry();
let qwen: Tokenizer;
let llama3: Tokenizer;
let llama2: Tokenizer;
let mistral: Tokenizer;
let phi: Tokenizer;
beforeAll(async () => {
  [qwen, llama3, llama2, mistral, phi] = (await Promise.all(
    (["qwen3", "llama3", "llama2", "mistral-7b", "phi-3-mini"] as const).map((n) => fixtureTokenizer(n)),
  )) as [Tokenizer, Tokenizer, Tokenizer, Tokenizer, Tokenizer];
});

function encoder(name: string, tok: Tokenizer, options: Record<string, boolean | string> = {}): ChatEncoder {
  const entry = registry.get("templates", name)._unsafeUnwrap();
  return entry.create(tok, options)._unsafeUnwrap();
}
const enc = (tok: Tokenizer, ...pieces: string[]) => pieces.flatMap((p) => tok.encode(p, { addSpecialTokens: false }));
const masked = (n: number) => new Array<number>(n).fill(IGNORE_INDEX);
const source = { dataset: "t", file: "t.json", row: 1 };
const sft = (prompt: Message[], response: string, system = "", tools = ""): SftExample => ({
  kind: "sft",
  prompt,
  response: { role: "assistant", content: response },
  system,
  tools,
  source,
});
function encode(e: ChatEncoder, tok: Tokenizer, ex: SftExample, opts: Partial<{ trainOnPrompt: boolean; maskHistory: boolean; cutoffLen: number }> = {}) {
  return encodeSupervised(ex, {
    encoder: e,
    tokenizer: tok,
    addsBos: false,
    options: { cutoffLen: 100000, trainOnPrompt: false, maskHistory: false, packing: false, neatPacking: false, ...opts },
  })._unsafeUnwrap();
}

const alpacaRows = (await Bun.file(`${LF_DATA}/alpaca_en_demo.json`).json()) as { instruction: string; input: string; output: string }[];
const identityRows = (await Bun.file(`${LF_DATA}/identity.json`).json()) as { instruction: string; output: string }[];
const glaiveRows = (await Bun.file(`${LF_DATA}/glaive_toolcall_en_demo.json`).json()) as { conversations: { from: string; value: string }[]; tools: string }[];

describe("qwen and chatml with the Qwen3 tokenizer", () => {
  test("qwen on alpaca_en_demo row 1: default system, masked prompt, <|im_end|>\\n learned", () => {
    const row = alpacaRows[0]!;
    const e = encoder("qwen", qwen);
    expect(e.eosId).toBe(151645); // replace_eos: <|im_end|>
    expect(e.padId).toBe(151643); // the tokenizer's own pad, <|endoftext|>
    const seq = encode(e, qwen, sft([{ role: "user", content: row.instruction }], row.output));
    const prompt = enc(
      qwen,
      "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n",
      `<|im_start|>user\n${row.instruction}<|im_end|>\n<|im_start|>assistant\n`,
    );
    const response = enc(qwen, `${row.output}<|im_end|>\n`);
    expect(seq.inputIds).toEqual([...prompt, ...response]);
    expect(seq.labels).toEqual([...masked(prompt.length), ...response]);
    expect(prompt.slice(0, 3)).toEqual([151644, 8948, 198]); // <|im_start|> system \n
    expect(prompt.slice(-3)).toEqual([151644, 77091, 198]); // <|im_start|> assistant \n
    expect(response.slice(-2)).toEqual([151645, 198]);
  });

  test("chatml on identity row 1 has no default system; train_on_prompt learns the prompt", () => {
    const row = identityRows[0]!;
    const e = encoder("chatml", qwen);
    const seq = encode(e, qwen, sft([{ role: "user", content: row.instruction }], row.output), { trainOnPrompt: true });
    const prompt = enc(qwen, `<|im_start|>user\n${row.instruction}<|im_end|>\n<|im_start|>assistant\n`);
    const response = enc(qwen, `${row.output}<|im_end|>\n`);
    expect(seq.inputIds).toEqual([...prompt, ...response]);
    expect(seq.labels).toEqual(seq.inputIds);
    expect(prompt).toEqual([151644, 872, 198, ...enc(qwen, "hi"), 151645, 198, 151644, 77091, 198]);
    expect(e.stopIds).toEqual([151645, 151644]);
  });

  test("qwen on glaive_toolcall_en_demo row 1: tool prompt in the system turn, tool call and tool response slots", () => {
    const row = glaiveRows[0]!;
    const c = row.conversations;
    const e = encoder("qwen", qwen);
    const messages: Message[] = [
      { role: "user", content: c[0]!.value },
      { role: "assistant", content: c[1]!.value },
      { role: "user", content: c[2]!.value },
      { role: "function", content: c[3]!.value },
      { role: "observation", content: c[4]!.value },
    ];
    const seq = encode(e, qwen, sft(messages, c[5]!.value, "", row.tools));
    const tool = JSON.parse(row.tools)[0];
    // QwenToolUtils.tool_formatter: json.dumps({"type": "function", "function": tool}) after "\n".
    const toolJson = `{"type": "function", "function": {"name": "${tool.name}", "description": "${tool.description}", "parameters": {"type": "object", "properties": {"ingredients": {"type": "array", "items": {"type": "string"}, "description": "The ingredients to search for"}}, "required": ["ingredients"]}}}`;
    const toolText =
      "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
      `You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n${toolJson}\n</tools>\n\n` +
      "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
      '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>';
    const system = `<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.${toolText}<|im_end|>\n`;
    const user = (t: string) => `<|im_start|>user\n${t}<|im_end|>\n<|im_start|>assistant\n`;
    const p1 = enc(qwen, system, user(c[0]!.value));
    const r1 = enc(qwen, `${c[1]!.value}<|im_end|>\n`);
    const p2 = enc(qwen, user(c[2]!.value));
    const r2 = enc(
      qwen,
      '<tool_call>\n{"name": "search_recipes", "arguments": {"ingredients": ["chicken", "bell peppers", "rice"]}}\n</tool_call><|im_end|>\n',
    );
    const p3 = enc(qwen, `<|im_start|>user\n<tool_response>\n${c[4]!.value}\n</tool_response><|im_end|>\n<|im_start|>assistant\n`);
    const r3 = enc(qwen, `${c[5]!.value}<|im_end|>\n`);
    expect(seq.inputIds).toEqual([...p1, ...r1, ...p2, ...r2, ...p3, ...r3]);
    expect(seq.labels).toEqual([...masked(p1.length), ...r1, ...masked(p2.length), ...r2, ...masked(p3.length), ...r3]);
  });

  test("qwen3 (reasoning): an empty thought is learned, or hidden in the prompt with enable_thinking false", () => {
    const row = alpacaRows[1]!;
    const ex = sft([{ role: "user", content: row.instruction + (row.input ? `\n${row.input}` : "") }], row.output);
    const prompt = enc(qwen, `<|im_start|>user\n${ex.prompt[0]!.content}<|im_end|>\n<|im_start|>assistant\n`);
    const think = enc(qwen, "<think>\n\n</think>\n\n");
    expect(think.slice(0, 1)).toEqual([151667]); // <think> is one token
    const response = enc(qwen, `${row.output}<|im_end|>\n`);
    const on = encode(encoder("qwen3", qwen), qwen, ex);
    expect(on.inputIds).toEqual([...prompt, ...think, ...response]);
    expect(on.labels).toEqual([...masked(prompt.length), ...think, ...response]);
    const off = encode(encoder("qwen3", qwen, { enable_thinking: false }), qwen, ex);
    expect(off.inputIds).toEqual(on.inputIds);
    expect(off.labels).toEqual([...masked(prompt.length + think.length), ...response]);
  });
});

describe("llama3 with the Llama 3 tokenizer", () => {
  test("alpaca_en_demo row 1: BOS prefix, header ids, <|eot_id|> as EOS", () => {
    const row = alpacaRows[0]!;
    const e = encoder("llama3", llama3);
    expect(e.eosId).toBe(128009);
    expect(e.padId).toBe(128009); // no pad token: pad = EOS
    expect(e.eosText).toBe("<|end_of_text|>");
    expect(e.warnings).toEqual(['stop word "<|eom_id|>" is not a token of this tokenizer; generation will not stop on it']);
    const seq = encode(e, llama3, sft([{ role: "user", content: row.instruction }], row.output));
    const prompt = [
      128000,
      ...enc(llama3, `<|start_header_id|>user<|end_header_id|>\n\n${row.instruction}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`),
    ];
    const response = enc(llama3, `${row.output}<|eot_id|>`);
    expect(seq.inputIds).toEqual([...prompt, ...response]);
    expect(seq.labels).toEqual([...masked(prompt.length), ...response]);
    expect(prompt.slice(0, 5)).toEqual([128000, 128006, 882, 128007, 271]);
    expect(response.at(-1)).toBe(128009);
  });

  test("identity rows 1-2 as two turns: system slot, mask_history learns only the last reply", () => {
    const [a, b] = identityRows as [{ instruction: string; output: string }, { instruction: string; output: string }];
    const e = encoder("llama3", llama3);
    const ex = sft(
      [
        { role: "user", content: a.instruction },
        { role: "assistant", content: a.output },
        { role: "user", content: b.instruction },
      ],
      b.output,
      "You are lft.",
    );
    const p1 = [
      128000,
      ...enc(
        llama3,
        "<|start_header_id|>system<|end_header_id|>\n\nYou are lft.<|eot_id|>",
        `<|start_header_id|>user<|end_header_id|>\n\n${a.instruction}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
      ),
    ];
    const r1 = enc(llama3, `${a.output}<|eot_id|>`);
    const p2 = enc(llama3, `<|start_header_id|>user<|end_header_id|>\n\n${b.instruction}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`);
    const r2 = enc(llama3, `${b.output}<|eot_id|>`);
    const all = encode(e, llama3, ex);
    expect(all.inputIds).toEqual([...p1, ...r1, ...p2, ...r2]);
    expect(all.labels).toEqual([...masked(p1.length), ...r1, ...masked(p2.length), ...r2]);
    const last = encode(e, llama3, ex, { maskHistory: true });
    expect(last.inputIds).toEqual(all.inputIds);
    expect(last.labels).toEqual([...masked(p1.length + r1.length + p2.length), ...r2]);
  });
});

describe("sentencepiece templates", () => {
  test("llama2: system folded into the first [INST], BOS before every user turn, EOS after every reply", () => {
    const e = encoder("llama2", llama2);
    const ex = sft(
      [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello!" },
        { role: "user", content: "Bye" },
      ],
      "Goodbye.",
      "Be kind.",
    );
    const seq = encode(e, llama2, ex);
    const expected = [
      1,
      ...enc(llama2, "[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHi [/INST]"),
      ...enc(llama2, "Hello!"),
      2,
      1,
      ...enc(llama2, "[INST] Bye [/INST]"),
      ...enc(llama2, "Goodbye."),
      2,
    ];
    expect(seq.inputIds).toEqual(expected);
  });

  test("mistral: [INST] ...[/INST] then ' answer' and EOS", () => {
    const e = encoder("mistral", mistral);
    const seq = encode(e, mistral, sft([{ role: "user", content: "Hi" }], "Hello!"));
    const prompt = [1, ...enc(mistral, "[INST] Hi[/INST]")];
    const response = [...enc(mistral, " Hello!"), 2];
    expect(seq.inputIds).toEqual([...prompt, ...response]);
    expect(seq.labels).toEqual([...masked(prompt.length), ...response]);
  });

  test("phi with the Phi-3 tokenizer: <|end|> replaces the EOS and, registered again, stops swallowing the newline", () => {
    const e = encoder("phi", phi);
    const end = phi.tokenToId("<|end|>")!;
    expect(e.eosId).toBe(end);
    const seq = encode(e, phi, sft([{ role: "user", content: "Hi" }], "Hello!", "S"));
    // tokenizer.json marks <|end|> rstrip; LLaMA-Factory's add_special_tokens resets that, so the "\n"
    // after it is encoded (29871 "▁", 13 "\n"), while <|user|> / <|assistant|> still swallow theirs.
    const registered = phi.withSpecialTokens!(["<|end|>"]);
    expect(registered.encode("<|end|>\n<|assistant|>", { addSpecialTokens: false })).toEqual([end, 29871, 13, 32001]);
    expect(phi.encode("<|end|>\n<|assistant|>", { addSpecialTokens: false })).toEqual([end, 32001]);
    expect(registered.encode("<|user|>\nHi", { addSpecialTokens: false })).toEqual([32010, 6324]);
    expect(seq.inputIds).toEqual(enc(registered, "<|system|>\nS<|end|>\n", "<|user|>\nHi<|end|>\n<|assistant|>\n", "Hello!<|end|>\n"));
    expect(seq.inputIds.filter((id) => id === end).length).toBe(3);
    expect(seq.inputIds.filter((id) => id === 13).length).toBe(3);
  });

  test("vicuna, alpaca and default templates with the Llama 2 tokenizer", () => {
    const ex = sft([{ role: "user", content: "Hi" }], "Hello!");
    const vicunaSystem =
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.";
    expect(encode(encoder("vicuna", llama2), llama2, ex).inputIds).toEqual([...enc(llama2, vicunaSystem, "USER: Hi ASSISTANT:", "Hello!"), 2]);
    const alpacaSystem = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n";
    expect(encode(encoder("alpaca", llama2), llama2, ex).inputIds).toEqual([
      ...enc(llama2, alpacaSystem, "### Instruction:\nHi\n\n### Response:\n", "Hello!"),
      2,
      ...enc(llama2, "\n\n"),
    ]);
    expect(encode(encoder("default", llama2), llama2, ex).inputIds).toEqual([
      ...enc(llama2, "Human: Hi"),
      2,
      ...enc(llama2, "\nAssistant:", "Hello!"),
      2,
      ...enc(llama2, "\n"),
    ]);
  });

  test("gemma needs <end_of_turn>, which these tokenizers lack: an error that says so", () => {
    const e = registry.get("templates", "gemma")._unsafeUnwrap().create(llama2, {});
    expect(e._unsafeUnwrapErr()).toBe(
      'chat template "gemma": template "gemma" ends turns with "<end_of_turn>", which is not a token of this tokenizer (LLaMA-Factory would add it and resize the embeddings; lft does not)',
    );
  });

  test("gemma on a Gemma tokenizer whose tokenizer.json does not list <end_of_turn> as an added token: one id, as in LLaMA-Factory", () => {
    const gemmaTok = loadTokenizer(join(import.meta.dir, "../../fixtures/tokenizers/gemma"))._unsafeUnwrap();
    const endOfTurn = gemmaTok.tokenToId("<end_of_turn>")!;
    // Unregistered, the text "<end_of_turn>" is split into pieces by the model.
    expect(gemmaTok.encode("<end_of_turn>", { addSpecialTokens: false }).length).toBeGreaterThan(1);
    const e = encoder("gemma", gemmaTok);
    expect(e.eosId).toBe(endOfTurn);
    const seq = encode(e, gemmaTok, sft([{ role: "user", content: "Hi" }], "Hello!"));
    // Two <end_of_turn>: the user turn's and the reply's (the learned EOS), each one id.
    expect(seq.inputIds.filter((id) => id === endOfTurn).length).toBe(2);
    expect(seq.labels.filter((id) => id === endOfTurn).length).toBe(1);
    const registered = gemmaTok.withSpecialTokens!(["<end_of_turn>"]);
    expect(seq.inputIds).toEqual([
      gemmaTok.bosId!,
      ...enc(registered, "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n", "Hello!<end_of_turn>\n"),
    ]);
  });

  test("gemma with a tokenizer that has its tokens: system folded into the first user turn", () => {
    const base = llama2;
    const withGemma: Tokenizer = {
      vocabSize: base.vocabSize,
      bosId: base.bosId,
      eosId: base.eosId,
      padId: base.padId,
      specialTokens: base.specialTokens,
      chatTemplate: null,
      encode: (t, o) => base.encode(t, o),
      decode: (i, o) => base.decode(i, o),
      idToToken: (i) => base.idToToken(i),
      tokenToId: (t) => (t === "<end_of_turn>" ? 7 : base.tokenToId(t)),
    };
    const e = encoder("gemma", withGemma);
    expect(e.eosId).toBe(7);
    const seq = encode(e, withGemma, sft([{ role: "user", content: "Hi" }], "Yo", "S"));
    expect(seq.inputIds).toEqual([1, ...enc(llama2, "<start_of_turn>user\nS\n\nHi<end_of_turn>\n<start_of_turn>model\n", "Yo<end_of_turn>\n")]);
  });
});

describe("hf: the model's own chat template", () => {
  test("Qwen3's template on a glaive row: pieces join to the template's own rendering, prompts masked", () => {
    const row = glaiveRows[1]!;
    const c = row.conversations;
    const e = encoder("hf", qwen);
    const messages: Message[] = c.slice(0, -1).map((m, i) => ({ role: i % 2 === 0 ? "user" : "assistant", content: m.value }));
    const pairs = e.encodeMultiturn([...messages, { role: "assistant", content: c.at(-1)!.value }], "", "")._unsafeUnwrap();
    const text = pairs.map(([p, r]) => `${qwen.decode(p)}|${qwen.decode(r)}`).join("|");
    // Qwen3's template: history replies plain, the last reply with an empty think block.
    const expected = c
      .map((m, i) =>
        i % 2 === 0
          ? `<|im_start|>user\n${m.value}<|im_end|>\n<|im_start|>assistant\n|`
          : `${i === c.length - 1 ? "<think>\n\n</think>\n\n" : ""}${m.value}<|im_end|>\n`,
      )
      .join("|");
    expect(text).toBe(expected.replace(/\|\|/g, "|"));
  });

  test("the Llama 3 template's trailing assistant header is not learned; <|eot_id|> is", () => {
    const e = encoder("hf", llama3);
    const pairs = e
      .encodeMultiturn(
        [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Yo" },
          { role: "user", content: "Bye" },
          { role: "assistant", content: "Ciao" },
        ],
        "",
        "",
      )
      ._unsafeUnwrap();
    expect(pairs.map(([, r]) => llama3.decode(r))).toEqual(["Yo<|eot_id|>", "Ciao<|eot_id|>"]);
    expect(llama3.decode(pairs[1]![0])).toBe("<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  });

  test("a tokenizer without a chat template cannot use hf", () => {
    expect(registry.get("templates", "hf")._unsafeUnwrap().create(llama2, {})._unsafeUnwrapErr()).toContain("the tokenizer has no chat_template");
  });
});
