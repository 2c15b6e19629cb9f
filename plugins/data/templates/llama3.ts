// LLaMA-Factory's `llama3` template: header ids around each role, <|eot_id|> as EOS, tool results as
// the ipython role.
import { definePlugin } from "../../../core/index.ts";
import { BOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

export const llama3Template = defineSlotTemplate({
  name: "llama3",
  doc: "Llama 3 / 3.1 instruct: <|start_header_id|>role<|end_header_id|> ... <|eot_id|>",
  user: ["<|start_header_id|>user<|end_header_id|>\n\n{{content}}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"],
  assistant: ["{{content}}<|eot_id|>"],
  system: ["<|start_header_id|>system<|end_header_id|>\n\n{{content}}<|eot_id|>"],
  function: ["{{content}}<|eot_id|>"],
  observation: ["<|start_header_id|>ipython<|end_header_id|>\n\n{{content}}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"],
  toolFormat: "llama3",
  prefix: [BOS],
  stopWords: ["<|eot_id|>", "<|eom_id|>"],
  replaceEos: true,
  ptEos: "<|end_of_text|>",
});

export default definePlugin({ name: "lft-template-llama3", setup: (api) => api.register.templates(llama3Template) });
