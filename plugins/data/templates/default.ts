// LLaMA-Factory's `default` template: "Human: ... Assistant:" turns separated by EOS.
import { definePlugin } from "../../../core/index.ts";
import { EOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const defaultTemplate = defineSlotTemplate({
  name: "default",
  doc: "Human:/Assistant: turns ended by EOS (LLaMA-Factory's default)",
  user: ["Human: {{content}}", EOS, "\nAssistant:"],
  assistant: ["{{content}}", EOS, "\n"],
  system: ["System: {{content}}", EOS, "\n"],
});

export const emptyTemplate = defineSlotTemplate({
  name: "empty",
  doc: "no markup at all: prompt and response texts concatenated (LLaMA-Factory's empty)",
  user: ["{{content}}"],
  assistant: ["{{content}}"],
});

export default definePlugin({
  name: "lft-template-default",
  setup(api) {
    api.register.templates(defaultTemplate);
    api.register.templates(emptyTemplate);
  },
});
