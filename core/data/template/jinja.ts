// Renders a model's own chat template (tokenizer_config.json `chat_template`, Jinja) with
// @huggingface/jinja and the variables transformers' apply_chat_template passes. (The tokenizer
// module's renderChatTemplate is meant to replace this; as of writing it redeclares raise_exception,
// which @huggingface/jinja 0.5 already defines, and so fails every render.)
import { Template } from "@huggingface/jinja";
import type { ChatMessage } from "../../tokenizer/tokenizer.ts";

export interface RenderVars {
  readonly bosToken: string;
  readonly eosToken: string;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Parses once (throws on a syntax error); render throws what the template raises. */
export function chatTemplateRenderer(source: string, vars: RenderVars) {
  const template = new Template(source);
  return (messages: readonly ChatMessage[], opts: { addGenerationPrompt: boolean; tools: readonly unknown[] }): string =>
    template.render({
      ...vars.extra,
      messages: messages.map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined))),
      tools: opts.tools.length > 0 ? opts.tools : null,
      add_generation_prompt: opts.addGenerationPrompt,
      bos_token: vars.bosToken,
      eos_token: vars.eosToken,
    });
}
