// The added templates that have no LLaMA-Factory parity case: a two-turn conversation with a system
// prompt, and one without (the template's default system), checked against the text LLaMA-Factory's
// register_template declaration renders, written out here by hand from LF's template.py (commit
// ff6d4d12). Each (prompt, reply) pair is decoded on its own, so a wrong slot, a wrong mask boundary,
// a missing BOS/EOS or a wrong EOS choice all fail.
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadTokenizer, type Message, type Tokenizer } from "../../../../core/index.ts";
import { dataRegistry } from "../../../core/data/helpers/registry.ts";
import { fixtureTokenizer } from "../../../core/data/helpers/tokenizer.ts";

const registry = dataRegistry();
const tokenizers: Record<string, Tokenizer> = {};
beforeAll(async () => {
  tokenizers.qwen3 = await fixtureTokenizer("qwen3");
  tokenizers.llama3 = await fixtureTokenizer("llama3");
  tokenizers.gemma = loadTokenizer(join(import.meta.dir, "../../../fixtures/tokenizers/gemma"))._unsafeUnwrap();
  tokenizers.phi = loadTokenizer(join(import.meta.dir, "../../../fixtures/tokenizers/phi-3-mini"))._unsafeUnwrap();
});

const conversation: Message[] = [
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello!" },
  { role: "user", content: "Bye" },
  { role: "assistant", content: "See you." },
];

interface Case {
  readonly tok: "qwen3" | "llama3" | "gemma" | "phi";
  /** [prompt 1, reply 1, prompt 2, reply 2] with system "Be brief." */
  readonly turns: readonly [string, string, string, string];
  /** The first prompt with no system given (the template's default system), when it has one. */
  readonly defaultFirst?: string;
  readonly eos: number;
  readonly efficientEos?: boolean;
}

const B = "<|begin_of_text|>";
const E = "<|end_of_text|>";
const imUser = (x: string) => `<|im_start|>user\n${x}<|im_end|>\n<|im_start|>assistant\n`;
const imSys = (x: string) => `<|im_start|>system\n${x}<|im_end|>\n`;
const chatmlTurns = (sys: string): Case["turns"] => [imSys(sys) + imUser("Hi"), "Hello!<|im_end|>\n", imUser("Bye"), "See you.<|im_end|>\n"];

const CASES: Record<string, Case> = {
  chatml_de: {
    tok: "qwen3",
    turns: chatmlTurns("Be brief."),
    defaultFirst: imSys("Du bist ein freundlicher und hilfsbereiter KI-Assistent.") + imUser("Hi"),
    eos: 151645,
  },
  intern2: {
    tok: "llama3",
    turns: [B + imSys("Be brief.") + imUser("Hi"), "Hello!<|im_end|>\n", imUser("Bye"), "See you.<|im_end|>\n"],
    defaultFirst:
      B +
      imSys(
        "You are an AI assistant whose name is InternLM (书生·浦语).\n- InternLM (书生·浦语) is a conversational language model that is developed by Shanghai AI Laboratory (上海人工智能实验室). It is designed to be helpful, honest, and harmless.\n- InternLM (书生·浦语) can understand and communicate fluently in the language chosen by the user such as English and 中文.",
      ) +
      imUser("Hi"),
    eos: 128001,
  },
  opencoder: {
    tok: "qwen3",
    turns: chatmlTurns("Be brief."),
    defaultFirst: imSys("You are OpenCoder, created by OpenCoder Team.") + imUser("Hi"),
    eos: 151645,
  },
  smollm: { tok: "qwen3", turns: chatmlTurns("Be brief."), defaultFirst: imUser("Hi"), eos: 151645 },
  smollm2: {
    tok: "qwen3",
    turns: chatmlTurns("Be brief."),
    defaultFirst: imSys("You are a helpful AI assistant named SmolLM, trained by Hugging Face.") + imUser("Hi"),
    eos: 151645,
  },
  sailor: {
    tok: "qwen3",
    turns: [
      `${imSys("Be brief.")}<|im_start|>question\nHi<|im_end|>\n<|im_start|>answer\n`,
      "Hello!<|im_end|>\n",
      "<|im_start|>question\nBye<|im_end|>\n<|im_start|>answer\n",
      "See you.<|im_end|>\n",
    ],
    defaultFirst: `${imSys("You are an AI assistant named Sailor created by Sea AI Lab. Your answer should be friendly, unbiased, faithful, informative and detailed.")}<|im_start|>question\nHi<|im_end|>\n<|im_start|>answer\n`,
    eos: 151645,
  },
  mimo_v2: {
    tok: "qwen3",
    turns: [imSys("Be brief.") + imUser("Hi"), "<think></think>Hello!<|im_end|>\n", imUser("Bye"), "<think></think>See you.<|im_end|>\n"],
    defaultFirst: imSys("You are MiMo, a helpful AI assistant engineered by Xiaomi.") + imUser("Hi"),
    eos: 151645,
  },
  qwen3_5_nothink: { tok: "qwen3", turns: chatmlTurns("Be brief."), defaultFirst: imUser("Hi"), eos: 151645 },
  qwen3_6: {
    tok: "qwen3",
    turns: [imSys("Be brief.") + imUser("Hi"), "<think>\n\n</think>\n\nHello!<|im_end|>\n", imUser("Bye"), "<think>\n\n</think>\n\nSee you.<|im_end|>\n"],
    defaultFirst: imUser("Hi"),
    eos: 151645,
  },
  llama2_zh: {
    tok: "llama3",
    turns: [`${B}[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]`, `Hello!${E}`, `${B}[INST] Bye [/INST]`, `See you.${E}`],
    defaultFirst: `${B}[INST] <<SYS>>\nYou are a helpful assistant. 你是一个乐于助人的助手。\n<</SYS>>\n\nHi [/INST]`,
    eos: 128001,
  },
  deepseek: {
    tok: "llama3",
    turns: [`${B}Be brief.\n\nUser: Hi\n\nAssistant:`, `Hello!${E}`, "User: Bye\n\nAssistant:", `See you.${E}`],
    defaultFirst: `${B}User: Hi\n\nAssistant:`,
    eos: 128001,
  },
  deepseek3: {
    tok: "llama3",
    turns: [`${B}Be brief.<｜User｜>Hi<｜Assistant｜>`, `Hello!${E}`, "<｜User｜>Bye<｜Assistant｜>", `See you.${E}`],
    defaultFirst: `${B}<｜User｜>Hi<｜Assistant｜>`,
    eos: 128001,
  },
  deepseekr1: {
    tok: "llama3",
    turns: [
      `${B}Be brief.<｜User｜>Hi<｜Assistant｜>`,
      `<think>\n\n</think>\n\nHello!${E}`,
      "<｜User｜>Bye<｜Assistant｜>",
      `<think>\n\n</think>\n\nSee you.${E}`,
    ],
    eos: 128001,
  },
  deepseekcoder: {
    tok: "llama3",
    turns: [`${B}Be brief.### Instruction:\nHi\n### Response:`, "\nHello!\n<|EOT|>\n", "### Instruction:\nBye\n### Response:", "\nSee you.\n<|EOT|>\n"],
    defaultFirst: `${B}You are an AI programming assistant, utilizing the DeepSeek Coder model, developed by DeepSeek Company, and you only answer questions related to computer science. For politically sensitive questions, security and privacy issues, and other non-computer science questions, you will refuse to answer.\n### Instruction:\nHi\n### Response:`,
    eos: 128001,
  },
  xuanyuan: {
    tok: "llama3",
    turns: ["Be brief.Human: Hi Assistant:", `Hello!${E}`, "Human: Bye Assistant:", `See you.${E}`],
    defaultFirst:
      "以下是用户和人工智能助手之间的对话。用户以Human开头，人工智能助手以Assistant开头，会对人类提出的问题给出有帮助、高质量、详细和礼貌的回答，并且总是拒绝参与与不道德、不安全、有争议、政治敏感等相关的话题、问题和指示。\nHuman: Hi Assistant:",
    eos: 128001,
  },
  fewshot: { tok: "llama3", turns: ["Be brief.Hi", "Hello!\n\n", "Bye", "See you.\n\n"], defaultFirst: "Hi", eos: 128001, efficientEos: true },
  solar: {
    tok: "llama3",
    turns: ["### System:\nBe brief.\n\n### User:\nHi\n\n### Assistant:\n", "Hello!", "### User:\nBye\n\n### Assistant:\n", "See you."],
    defaultFirst: "### User:\nHi\n\n### Assistant:\n",
    eos: 128001,
    efficientEos: true,
  },
  seed_coder: {
    tok: "llama3",
    turns: [`${B}system\nBe brief.${E}${B}user\nHi${E}${B}assistant\n`, `Hello!${E}`, `${B}user\nBye${E}${B}assistant\n`, `See you.${E}`],
    defaultFirst: `${B}system\nYou are an AI programming assistant, utilizing the Seed-Coder model, developed by ByteDance Seed, and you only answer questions related to computer science. For politically sensitive questions, security and privacy issues, and other non-computer science questions, you will refuse to answer.\n\n${E}${B}user\nHi${E}${B}assistant\n`,
    eos: 128001,
  },
  ministral: {
    tok: "llama3",
    turns: [`${B}[INST]Be brief.\n\nHi[/INST]`, `Hello!${E}`, "[INST]Bye[/INST]", `See you.${E}`],
    defaultFirst: `${B}[INST]Hi[/INST]`,
    eos: 128001,
  },
  mistral_small: {
    tok: "llama3",
    turns: [`${B}[SYSTEM_PROMPT]Be brief.[/SYSTEM_PROMPT][INST]Hi[/INST]`, `Hello!${E}`, "[INST]Bye[/INST]", `See you.${E}`],
    defaultFirst: `${B}[INST]Hi[/INST]`,
    eos: 128001,
  },
  openchat: {
    tok: "llama3",
    turns: [`${B}Be brief.GPT4 Correct User: Hi${E}GPT4 Correct Assistant:`, `Hello!${E}`, `GPT4 Correct User: Bye${E}GPT4 Correct Assistant:`, `See you.${E}`],
    defaultFirst: `${B}GPT4 Correct User: Hi${E}GPT4 Correct Assistant:`,
    eos: 128001,
  },
  gemma2: {
    tok: "gemma",
    turns: [
      "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n",
      "Hello!<end_of_turn>\n",
      "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n",
      "See you.<end_of_turn>\n",
    ],
    defaultFirst: "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    eos: 1,
    efficientEos: true,
  },
  gemma3: {
    tok: "gemma",
    turns: [
      "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n",
      "Hello!<end_of_turn>\n",
      "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n",
      "See you.<end_of_turn>\n",
    ],
    defaultFirst: "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    eos: 107,
  },
  phi4: {
    tok: "qwen3",
    turns: [
      "<|im_start|>system<|im_sep|>Be brief.<|im_end|><|im_start|>user<|im_sep|>Hi<|im_end|><|im_start|>assistant<|im_sep|>",
      "Hello!<|im_end|>",
      "<|im_start|>user<|im_sep|>Bye<|im_end|><|im_start|>assistant<|im_sep|>",
      "See you.<|im_end|>",
    ],
    defaultFirst: "<|im_start|>user<|im_sep|>Hi<|im_end|><|im_start|>assistant<|im_sep|>",
    eos: 151645,
  },
  // Phi-3's sentencepiece-style tokenizer prefixes "▁" to text that follows a special token (as HF's does):
  // the decoded prompts show it as a space after <|system|> and <|user|>.
  phi4_mini: {
    tok: "phi",
    turns: ["<|system|> Be brief.<|end|><|user|> Hi<|end|><|assistant|>", "Hello!<|end|>", "<|user|> Bye<|end|><|assistant|>", "See you.<|end|>"],
    defaultFirst: "<|user|> Hi<|end|><|assistant|>",
    eos: 32007,
  },
  glm4: {
    tok: "llama3",
    turns: ["[gMASK]<sop><|system|>\nBe brief.<|user|>\nHi<|assistant|>", "\nHello!", "<|user|>\nBye<|assistant|>", "\nSee you."],
    defaultFirst: "[gMASK]<sop><|user|>\nHi<|assistant|>",
    eos: 128001,
    efficientEos: true,
  },
  cohere: {
    tok: "llama3",
    turns: [
      `${B}<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>Be brief.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hi<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>`,
      `Hello!${E}`,
      "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Bye<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",
      `See you.${E}`,
    ],
    defaultFirst: `${B}<|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hi<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>`,
    eos: 128001,
  },
};

describe("added templates render as LLaMA-Factory declares them", () => {
  for (const [name, c] of Object.entries(CASES)) {
    test(name, () => {
      const tok = tokenizers[c.tok]!;
      const enc = registry.get("templates", name)._unsafeUnwrap().create(tok, {})._unsafeUnwrap();
      expect(enc.eosId).toBe(c.eos);
      expect(enc.efficientEos).toBe(c.efficientEos ?? false);
      const pairs = enc.encodeMultiturn(conversation, "Be brief.", "")._unsafeUnwrap();
      expect(pairs.flatMap(([p, r]) => [tok.decode(p), tok.decode(r)])).toEqual([...c.turns]);
      if (c.defaultFirst !== undefined) {
        const [[first]] = enc.encodeMultiturn(conversation, "", "")._unsafeUnwrap() as [[number[], number[]]];
        expect(tok.decode(first)).toBe(c.defaultFirst);
      }
    });
  }
});
