// LLaMA-Factory's ChatML-shaped templates other than `chatml` and the Qwen ones: the same
// <|im_start|>role ... <|im_end|> turns, with each model's default system, prefix and stop words.
import { definePlugin } from "../../../core/index.ts";
import { BOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

const user = ["<|im_start|>user\n{{content}}<|im_end|>\n<|im_start|>assistant\n"];
const assistant = ["{{content}}<|im_end|>\n"];
const system = ["<|im_start|>system\n{{content}}<|im_end|>\n"];
const toolObservation = ["<|im_start|>tool\n{{content}}<|im_end|>\n<|im_start|>assistant\n"];

export const chatmlDeTemplate = defineSlotTemplate({
  name: "chatml_de",
  doc: "ChatML with a German default system prompt",
  user,
  assistant,
  system,
  observation: toolObservation,
  defaultSystem: "Du bist ein freundlicher und hilfsbereiter KI-Assistent.",
  stopWords: ["<|im_end|>", "<|im_start|>"],
  replaceEos: true,
});

export const yiTemplate = defineSlotTemplate({
  name: "yi",
  doc: "Yi chat (01.AI): ChatML, the tokenizer's own EOS",
  user,
  assistant,
  system,
  stopWords: ["<|im_end|>"],
});

export const cpm4Template = defineSlotTemplate({
  name: "cpm4",
  doc: "MiniCPM 4: ChatML after a BOS",
  user,
  assistant,
  system,
  observation: toolObservation,
  prefix: [BOS],
  stopWords: ["<|im_end|>"],
});

export const ernieTemplate = defineSlotTemplate({
  name: "ernie",
  doc: "ERNIE 4.5 (thinking): ChatML with blank lines between turns",
  user: ["<|im_start|>user\n{{content}}<|im_end|>\n\n<|im_start|>assistant\n"],
  assistant: ["{{content}}<|im_end|>\n\n"],
  system: ["<|im_start|>system\n{{content}}<|im_end|>\n\n"],
  observation: ["<|im_start|>tool\n{{content}}<|im_end|>\n\n<|im_start|>assistant\n"],
  defaultSystem: "<global_setting>\nthink_mode=True\n</global_setting>",
  stopWords: ["<|im_end|>"],
});

export const intern2Template = defineSlotTemplate({
  name: "intern2",
  doc: "InternLM 2 / 2.5 chat: ChatML after a BOS, InternLM's default system",
  user,
  assistant,
  system,
  prefix: [BOS],
  defaultSystem:
    "You are an AI assistant whose name is InternLM (书生·浦语).\n" +
    "- InternLM (书生·浦语) is a conversational language model that is developed by Shanghai AI Laboratory " +
    "(上海人工智能实验室). It is designed to be helpful, honest, and harmless.\n" +
    "- InternLM (书生·浦语) can understand and communicate fluently in the language " +
    "chosen by the user such as English and 中文.",
  stopWords: ["<|im_end|>"],
});

export const opencoderTemplate = defineSlotTemplate({
  name: "opencoder",
  doc: "OpenCoder instruct: ChatML with OpenCoder's default system",
  user,
  assistant,
  system,
  observation: toolObservation,
  defaultSystem: "You are OpenCoder, created by OpenCoder Team.",
  stopWords: ["<|im_end|>"],
});

export const smollmTemplate = defineSlotTemplate({ name: "smollm", doc: "SmolLM instruct: ChatML", user, assistant, system, stopWords: ["<|im_end|>"] });

export const smollm2Template = defineSlotTemplate({
  name: "smollm2",
  doc: "SmolLM2 instruct: ChatML with SmolLM's default system",
  user,
  assistant,
  system,
  stopWords: ["<|im_end|>"],
  defaultSystem: "You are a helpful AI assistant named SmolLM, trained by Hugging Face.",
});

export const sailorTemplate = defineSlotTemplate({
  name: "sailor",
  doc: "Sailor (Qwen 1.5 based): ChatML with question/answer roles",
  user: ["<|im_start|>question\n{{content}}<|im_end|>\n<|im_start|>answer\n"],
  assistant,
  system,
  defaultSystem:
    "You are an AI assistant named Sailor created by Sea AI Lab. " + "Your answer should be friendly, unbiased, faithful, informative and detailed.",
  stopWords: ["<|im_end|>"],
});

export const chatmlVariantTemplates = [
  chatmlDeTemplate,
  yiTemplate,
  cpm4Template,
  ernieTemplate,
  intern2Template,
  opencoderTemplate,
  smollmTemplate,
  smollm2Template,
  sailorTemplate,
];

export default definePlugin({
  name: "lft-template-chatml-variants",
  setup(api) {
    for (const t of chatmlVariantTemplates) api.register.templates(t);
  },
});
