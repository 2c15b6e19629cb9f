// LLaMA-Factory's gemma3 template against Gemma 3's own Jinja chat template (the one in the gemma3 tokenizer
// fixture's tokenizer_config.json, as google/gemma-3-*-it ship it), rendered with lft's renderer: the training
// text of a conversation is the same with and without a system prompt (both fold it into the first user turn),
// and the ids carry <end_of_turn> as each reply's EOS.
import { beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ChatMessage, loadTokenizer, type Message, renderChatTemplate, type Tokenizer } from "../../../../core/index.ts";
import { dataRegistry } from "../../../core/data/helpers/registry.ts";

const DIR = join(import.meta.dir, "../../../fixtures/tokenizers/gemma3");
const registry = dataRegistry();
let tok: Tokenizer;
let chatTemplate: string;
beforeAll(() => {
  tok = loadTokenizer(DIR)._unsafeUnwrap();
  chatTemplate = JSON.parse(readFileSync(join(DIR, "tokenizer_config.json"), "utf8")).chat_template;
});

const conversation: Message[] = [
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello!" },
  { role: "user", content: "Bye" },
  { role: "assistant", content: "See you." },
];

function encodeTurns(system: string): [number[], number[]][] {
  const encoder = registry.get("templates", "gemma3")._unsafeUnwrap().create(tok, {})._unsafeUnwrap();
  return encoder.encodeMultiturn(conversation, system, "")._unsafeUnwrap();
}

function render(system: string): string {
  const messages: ChatMessage[] = [
    ...(system ? [{ role: "system", content: system }] : []),
    ...conversation.map((m) => ({ role: m.role, content: m.content })),
  ];
  return renderChatTemplate(chatTemplate, messages, { bosToken: "<bos>", eosToken: "<end_of_turn>" })._unsafeUnwrap();
}

test("gemma3 equals Gemma 3's own chat template, with and without a system prompt", () => {
  for (const system of ["", "Be brief."]) {
    const ids = encodeTurns(system).flatMap(([p, r]) => [...p, ...r]);
    expect(tok.decode(ids)).toBe(render(system));
  }
  expect(render("Be brief.")).toStartWith("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n");
});

test("each reply ends with <end_of_turn> (the replaced EOS) and its newline; prompts open the model turn", () => {
  const endOfTurn = tok.encode("<end_of_turn>", { addSpecialTokens: false });
  expect(endOfTurn.length).toBe(1);
  for (const [prompt, reply] of encodeTurns("")) {
    expect(tok.decode(prompt)).toEndWith("<start_of_turn>model\n");
    expect(reply.slice(-2)[0]).toBe(endOfTurn[0]!);
    expect(tok.decode(reply.slice(-1))).toBe("\n");
  }
});
