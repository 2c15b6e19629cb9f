// LLaMA-Factory's `cohere` template (Command-R / R+, Aya): BOS, then turns in
// <|START_OF_TURN_TOKEN|><|ROLE_TOKEN|> ... <|END_OF_TURN_TOKEN|>, the reply ended by the tokenizer's EOS.
import { definePlugin } from "../../../core/index.ts";
import { BOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const cohereTemplate = defineSlotTemplate({
  name: "cohere",
  doc: "Command-R: <|START_OF_TURN_TOKEN|><|USER_TOKEN|>...<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>",
  user: ["<|START_OF_TURN_TOKEN|><|USER_TOKEN|>{{content}}<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"],
  system: ["<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>{{content}}<|END_OF_TURN_TOKEN|>"],
  prefix: [BOS],
});

export default definePlugin({ name: "lft-template-cohere", setup: (api) => api.register.templates(cohereTemplate) });
