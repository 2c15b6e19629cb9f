// LLaMA-Factory's templates for Llama-architecture chat models other than `llama2` / `llama3`:
// Chinese Llama 2, OpenChat 3.6 (Llama 3), DeepSeek (LLM, Coder, V3 / R1 distills), XuanYuan, SOLAR
// and Seed-Coder.
import { definePlugin } from "../../../core/index.ts";
import { BOS, EOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const llama2ZhTemplate = defineSlotTemplate({
  name: "llama2_zh",
  doc: "Chinese Llama 2: llama2 with a bilingual default system",
  user: [BOS, "[INST] {{content}} [/INST]"],
  system: ["<<SYS>>\n{{content}}\n<</SYS>>\n\n"],
  defaultSystem: "You are a helpful assistant. 你是一个乐于助人的助手。",
  fuseSystem: true,
});

export const openchat36Template = defineSlotTemplate({
  name: "openchat-3.6",
  doc: "OpenChat 3.6 (Llama 3): GPT4 Correct User / Assistant headers",
  user: ["<|start_header_id|>GPT4 Correct User<|end_header_id|>\n\n{{content}}<|eot_id|>" + "<|start_header_id|>GPT4 Correct Assistant<|end_header_id|>\n\n"],
  prefix: [BOS],
  stopWords: ["<|eot_id|>"],
});

export const deepseekTemplate = defineSlotTemplate({
  name: "deepseek",
  doc: "DeepSeek LLM chat: User: / Assistant:",
  user: ["User: {{content}}\n\nAssistant:"],
  system: ["{{content}}\n\n"],
  prefix: [BOS],
});

export const deepseek3Template = defineSlotTemplate({
  name: "deepseek3",
  doc: "DeepSeek V3 / V2.5: <｜User｜> ... <｜Assistant｜>",
  user: ["<｜User｜>{{content}}<｜Assistant｜>"],
  prefix: [BOS],
});

export const deepseekr1Template = defineSlotTemplate({
  name: "deepseekr1",
  doc: "DeepSeek R1 and its distills: deepseek3 with thinking",
  user: ["<｜User｜>{{content}}<｜Assistant｜>"],
  prefix: [BOS],
  reasoning: true,
});

export const deepseekcoderTemplate = defineSlotTemplate({
  name: "deepseekcoder",
  doc: "DeepSeek Coder instruct: ### Instruction: / ### Response: with <|EOT|>",
  user: ["### Instruction:\n{{content}}\n### Response:"],
  assistant: ["\n{{content}}\n<|EOT|>\n"],
  prefix: [BOS],
  defaultSystem:
    "You are an AI programming assistant, utilizing the DeepSeek Coder model, " +
    "developed by DeepSeek Company, and you only answer questions related to computer science. " +
    "For politically sensitive questions, security and privacy issues, " +
    "and other non-computer science questions, you will refuse to answer.\n",
});

export const xuanyuanTemplate = defineSlotTemplate({
  name: "xuanyuan",
  doc: "XuanYuan (Du Xiaoman): Human: / Assistant: with a Chinese default system",
  user: ["Human: {{content}} Assistant:"],
  defaultSystem:
    "以下是用户和人工智能助手之间的对话。用户以Human开头，人工智能助手以Assistant开头，" +
    "会对人类提出的问题给出有帮助、高质量、详细和礼貌的回答，并且总是拒绝参与与不道德、" +
    "不安全、有争议、政治敏感等相关的话题、问题和指示。\n",
});

export const solarTemplate = defineSlotTemplate({
  name: "solar",
  doc: "SOLAR instruct: ### User: / ### Assistant:, one EOS at the end",
  user: ["### User:\n{{content}}\n\n### Assistant:\n"],
  system: ["### System:\n{{content}}\n\n"],
  efficientEos: true,
});

export const seedCoderTemplate = defineSlotTemplate({
  name: "seed_coder",
  doc: "Seed-Coder instruct (ByteDance): BOS role\\n ... EOS turns",
  user: [BOS, "user\n{{content}}", EOS, BOS, "assistant\n"],
  system: [BOS, "system\n{{content}}", EOS],
  defaultSystem:
    "You are an AI programming assistant, utilizing the Seed-Coder model, developed by ByteDance Seed, " +
    "and you only answer questions related to computer science. For politically sensitive questions, " +
    "security and privacy issues, and other non-computer science questions, you will refuse to answer.\n\n",
});

export const llamaVariantTemplates = [
  llama2ZhTemplate,
  openchat36Template,
  deepseekTemplate,
  deepseek3Template,
  deepseekr1Template,
  deepseekcoderTemplate,
  xuanyuanTemplate,
  solarTemplate,
  seedCoderTemplate,
];

export default definePlugin({
  name: "lft-template-llama-variants",
  setup(api) {
    for (const t of llamaVariantTemplates) api.register.templates(t);
  },
});
