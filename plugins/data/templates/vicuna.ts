// LLaMA-Factory's `vicuna` template: "USER: ... ASSISTANT:" with Vicuna's system prompt run straight
// into the first turn (no separator, as LLaMA-Factory writes it).
import { definePlugin } from "../../../core/index.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const vicunaTemplate = defineSlotTemplate({
  name: "vicuna",
  doc: "USER: ... ASSISTANT: (Vicuna v1.1)",
  user: ["USER: {{content}} ASSISTANT:"],
  defaultSystem:
    "A chat between a curious user and an artificial intelligence assistant. " +
    "The assistant gives helpful, detailed, and polite answers to the user's questions.",
});

export default definePlugin({ name: "lft-template-vicuna", setup: (api) => api.register.templates(vicunaTemplate) });
