// LLaMA-Factory's `alpaca` template: "### Instruction:" / "### Response:" with the Alpaca system prompt.
import { definePlugin } from "../../../core/index.ts";
import { EOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const alpacaTemplate = defineSlotTemplate({
  name: "alpaca",
  doc: "### Instruction: / ### Response: (Stanford Alpaca)",
  user: ["### Instruction:\n{{content}}\n\n### Response:\n"],
  assistant: ["{{content}}", EOS, "\n\n"],
  defaultSystem: "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n",
});

export default definePlugin({ name: "lft-template-alpaca", setup: (api) => api.register.templates(alpacaTemplate) });
