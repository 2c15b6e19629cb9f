// LLaMA-Factory's gpt_oss template (gpt-oss 20b/120b): the harmony format's plain turns,
// <|start|>{role}<|message|>{content}<|end|>, as a reasoning template whose thoughts sit in the
// analysis channel and whose answer follows in the final channel; the EOS (<|return|>) once at the end.
import { definePlugin } from "../../../core/index.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const gptOssTemplate = defineSlotTemplate({
  name: "gpt_oss",
  doc: "gpt-oss: harmony turns, thoughts in the analysis channel, the answer in the final channel",
  user: ["<|start|>user<|message|>{{content}}<|end|><|start|>assistant"],
  assistant: ["{{content}}"],
  system: ["<|start|>system<|message|>{{content}}<|end|>"],
  defaultSystem: "You are ChatGPT, a large language model trained by OpenAI.",
  thoughtWords: ["<|channel|>analysis<|message|>", "<|end|><|start|>assistant<|channel|>final<|message|>"],
  efficientEos: true,
  reasoning: true,
});

export default definePlugin({
  name: "lft-template-gpt-oss",
  setup(api) {
    api.register.templates(gptOssTemplate);
  },
});
