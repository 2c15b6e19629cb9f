// LLaMA-Factory's templates for Mistral-architecture chat models other than `mistral`: the tekken
// Mistrals (Ministral / Nemo, Mistral Small), Breeze, OpenChat 3.5 and Zephyr.
import { definePlugin } from "../../../core/index.ts";
import { BOS, EOS } from "./slot-spec.ts";
import { defineSlotTemplate } from "./slot-template.ts";

const tekkenTools = {
  user: ["[INST]{{content}}[/INST]"],
  function: ["[TOOL_CALLS]{{content}}", EOS],
  observation: ['[TOOL_RESULTS]{"content": {{content}}}[/TOOL_RESULTS]'],
  toolFormat: "mistral" as const,
  prefix: [BOS],
};

export const ministralTemplate = defineSlotTemplate({
  name: "ministral",
  doc: "Ministral / Mistral Nemo (tokenizer v3 tekken): [INST]...[/INST] without spaces",
  ...tekkenTools,
  system: ["{{content}}\n\n"],
  fuseSystem: true,
});

export const mistralSmallTemplate = defineSlotTemplate({
  name: "mistral_small",
  doc: "Mistral Small 3 (tokenizer v7 tekken): [SYSTEM_PROMPT] turn, [INST]...[/INST]",
  ...tekkenTools,
  system: ["[SYSTEM_PROMPT]{{content}}[/SYSTEM_PROMPT]"],
});

export const breezeTemplate = defineSlotTemplate({
  name: "breeze",
  doc: "Breeze (MediaTek, Mistral based): [INST] ... [/INST], one EOS at the end",
  user: ["[INST] {{content}} [/INST] "],
  prefix: [BOS],
  efficientEos: true,
});

export const openchatTemplate = defineSlotTemplate({
  name: "openchat",
  doc: "OpenChat 3.5 (Mistral based): GPT4 Correct User: ... GPT4 Correct Assistant:",
  user: ["GPT4 Correct User: {{content}}", EOS, "GPT4 Correct Assistant:"],
  prefix: [BOS],
});

export const zephyrTemplate = defineSlotTemplate({
  name: "zephyr",
  doc: "Zephyr (HuggingFaceH4): <|user|> / <|assistant|> turns ended by EOS",
  user: ["<|user|>\n{{content}}", EOS, "<|assistant|>\n"],
  system: ["<|system|>\n{{content}}", EOS],
  defaultSystem: "You are Zephyr, a helpful assistant.",
});

export const mistralVariantTemplates = [ministralTemplate, mistralSmallTemplate, breezeTemplate, openchatTemplate, zephyrTemplate];

export default definePlugin({
  name: "lft-template-mistral-variants",
  setup(api) {
    for (const t of mistralVariantTemplates) api.register.templates(t);
  },
});
