// LLaMA-Factory's `llama2` template: <s>[INST] <<SYS>>...<</SYS>> user [/INST] answer </s>, the system
// prompt folded into the first user turn.
import { definePlugin } from "../../../core/index.ts";
import { BOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const llama2Template = defineSlotTemplate({
  name: "llama2",
  doc: "Llama 2 chat: [INST] ... [/INST] with <<SYS>> in the first turn",
  user: [BOS, "[INST] {{content}} [/INST]"],
  system: ["<<SYS>>\n{{content}}\n<</SYS>>\n\n"],
  fuseSystem: true,
});

export default definePlugin({ name: "lft-template-llama2", setup: (api) => api.register.templates(llama2Template) });
