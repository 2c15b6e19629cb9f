// LLaMA-Factory's `mistral` template (tokenizer v3): [INST] ...[/INST] answer</s>, system text folded
// into the first user turn, tools as [AVAILABLE_TOOLS] / [TOOL_CALLS] / [TOOL_RESULTS].
import { definePlugin } from "../../../core/index.ts";
import { BOS, EOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const mistralTemplate = defineSlotTemplate({
  name: "mistral",
  doc: "Mistral instruct: [INST] ...[/INST] answer</s>",
  user: ["[INST] {{content}}[/INST]"],
  assistant: [" {{content}}", EOS],
  system: ["{{content}}\n\n"],
  function: ["[TOOL_CALLS] {{content}}", EOS],
  observation: ['[TOOL_RESULTS] {"content": {{content}}}[/TOOL_RESULTS]'],
  toolFormat: "mistral",
  prefix: [BOS],
  fuseSystem: true,
});

export default definePlugin({ name: "lft-template-mistral", setup: (api) => api.register.templates(mistralTemplate) });
