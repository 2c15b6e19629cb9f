// Added templates against the models' own Jinja chat templates (test/fixtures/chat-templates),
// rendered with lft's renderer: where LLaMA-Factory and the model agree the texts are equal; where
// they do not, the test pins the documented difference (docs/notes/templates.md) so it cannot grow.
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type ChatEncoder, type ChatMessage, loadTokenizer, type Message, renderChatTemplate, type Tokenizer } from "../../../../core/index.ts";
import { dataRegistry } from "../../../core/data/helpers/registry.ts";
import { fixtureTokenizer } from "../../../core/data/helpers/tokenizer.ts";

const registry = dataRegistry();
const TEMPLATES = join(import.meta.dir, "../../../fixtures/chat-templates");
const jinja = (file: string) => Bun.file(join(TEMPLATES, file)).text();

let llama3: Tokenizer;
let gemma: Tokenizer;
beforeAll(async () => {
  llama3 = await fixtureTokenizer("llama3");
  gemma = loadTokenizer(join(import.meta.dir, "../../../fixtures/tokenizers/gemma"))._unsafeUnwrap();
});

const conversation: Message[] = [
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello!" },
  { role: "user", content: "Bye" },
  { role: "assistant", content: "See you." },
];
const asJinja = (system: string, messages: readonly Message[]): ChatMessage[] => [
  ...(system ? [{ role: "system", content: system }] : []),
  ...messages.map((m) => ({ role: m.role, content: m.content })),
];
const encoder = (name: string, tok: Tokenizer): ChatEncoder => registry.get("templates", name)._unsafeUnwrap().create(tok, {})._unsafeUnwrap();
/** The whole conversation as the template encodes it for training, decoded to text. */
function lftText(name: string, tok: Tokenizer, system: string, messages: readonly Message[] = conversation): string {
  const e = encoder(name, tok);
  const ids = e
    .encodeMultiturn(messages, system, "")
    ._unsafeUnwrap()
    .flatMap(([p, r]) => [...p, ...r]);
  if (e.efficientEos) ids.push(e.eosId);
  return tok.decode(ids);
}

describe("DeepSeek R1 distills (the distill tokenizers keep Llama 3's ids: 128000 <｜begin▁of▁sentence｜>, 128001 <｜end▁of▁sentence｜>)", () => {
  const distill = (text: string) => text.replaceAll("<|begin_of_text|>", "<｜begin▁of▁sentence｜>").replaceAll("<|end_of_text|>", "<｜end▁of▁sentence｜>");
  const render = async (system: string, messages: readonly Message[] = conversation) =>
    renderChatTemplate(await jinja("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja"), asJinja(system, messages), {
      bosToken: "<｜begin▁of▁sentence｜>",
      eosToken: "<｜end▁of▁sentence｜>",
    })._unsafeUnwrap();

  test("deepseek3 equals the model's template, with and without a system prompt", async () => {
    expect(distill(lftText("deepseek3", llama3, "Be brief."))).toBe(await render("Be brief."));
    expect(distill(lftText("deepseek3", llama3, ""))).toBe(await render(""));
  });

  test("deepseekr1 differs only by LF's empty thought on replies without one (the model's template drops thoughts)", async () => {
    const lf = distill(lftText("deepseekr1", llama3, "Be brief."));
    expect(lf.replaceAll("<think>\n\n</think>\n\n", "")).toBe(await render("Be brief."));
    expect(lf).not.toBe(await render("Be brief."));
    // A reply with its own thought: LF learns it, the model's template renders only the text after </think>.
    const thought: Message[] = [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "<think>\nGreet back.\n</think>\n\nHello!" },
    ];
    const withThought = distill(lftText("deepseekr1", llama3, "", thought));
    expect(withThought).toBe("<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜><think>\nGreet back.\n</think>\n\nHello!<｜end▁of▁sentence｜>");
    expect(await render("", thought)).toBe("<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>\n\nHello!<｜end▁of▁sentence｜>");
  });
});

describe("Gemma 2 (google/gemma-2-2b-it's template)", () => {
  const render = async (system: string) =>
    renderChatTemplate(await jinja("google-gemma-2-2b-it.jinja"), asJinja(system, conversation), { bosToken: "<bos>", eosToken: "<eos>" });

  test("gemma2 equals the model's template plus the one <eos> that efficient_eos appends", async () => {
    expect(lftText("gemma2", gemma, "")).toBe(`${(await render(""))._unsafeUnwrap()}<eos>`);
  });

  test("a system prompt: LF folds it into the first user turn, the model's template refuses it", async () => {
    expect((await render("Be brief."))._unsafeUnwrapErr().message).toContain("System role not supported");
    expect(lftText("gemma2", gemma, "Be brief.")).toStartWith("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n");
  });
});

describe("Mistral Nemo (ministral; tekken text checked with the Llama 3 tokenizer's byte-level ids)", () => {
  const nemo = (text: string) => text.replaceAll("<|begin_of_text|>", "<s>").replaceAll("<|end_of_text|>", "</s>");
  const render = async (system: string, messages: readonly Message[] = conversation) =>
    renderChatTemplate(await jinja("mistralai-Mistral-Nemo-Instruct-2407.jinja"), asJinja(system, messages), {
      bosToken: "<s>",
      eosToken: "</s>",
    })._unsafeUnwrap();

  test("without a system prompt ministral equals the model's template", async () => {
    expect(nemo(lftText("ministral", llama3, ""))).toBe(await render(""));
  });

  test("a system prompt: LF puts it in the first [INST], the model's template only in a final user turn (so never in training text)", async () => {
    expect(nemo(lftText("ministral", llama3, "Be brief."))).toBe("<s>[INST]Be brief.\n\nHi[/INST]Hello!</s>[INST]Bye[/INST]See you.</s>");
    expect(await render("Be brief.")).toBe(await render(""));
  });
});
