// Renders a model's Jinja chat template (tokenizer_config.json `chat_template`) the way transformers'
// apply_chat_template does: with messages, add_generation_prompt, bos_token, eos_token, tools (None when
// absent) and raise_exception, through @huggingface/jinja (which trims blocks as transformers does).
// raise_exception in a template becomes an Err of kind "raised" carrying the template's message.
import { Environment, Interpreter, Template } from "@huggingface/jinja";
import { err, ok, type Result } from "neverthrow";
import { TemplateRaised, templateGlobals } from "./template-globals.ts";
import type { ChatMessage } from "./tokenizer.ts";

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  bosToken?: string | null;
  eosToken?: string | null;
  /** Tool schemas (OpenAI shape: {type: "function", function: {name, description, parameters}}). */
  tools?: readonly unknown[];
  /** Further variables the template reads, e.g. date_string, enable_thinking, documents. */
  extra?: Record<string, unknown>;
}

/** `kind`: "syntax" (the template does not parse), "raised" (it called raise_exception), "render". */
export class ChatTemplateError extends Error {
  constructor(
    readonly kind: "syntax" | "raised" | "render",
    message: string,
  ) {
    super(message);
    this.name = "ChatTemplateError";
  }
}

const parsed = new Map<string, Template | ChatTemplateError>();

function compile(template: string): Template | ChatTemplateError {
  let t = parsed.get(template);
  if (t === undefined) {
    try {
      t = new Template(template);
    } catch (e) {
      t = new ChatTemplateError("syntax", `chat template does not parse: ${(e as Error).message}`);
    }
    if (parsed.size > 64) parsed.clear();
    parsed.set(template, t);
  }
  return t;
}

/** Drops undefined fields, so `'tool_calls' in message` is false for a message without tool calls. */
function plain(message: ChatMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(message)) if (v !== undefined) out[k] = v;
  return out;
}

export function renderChatTemplate(template: string, messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): Result<string, ChatTemplateError> {
  const t = compile(template);
  if (t instanceof ChatTemplateError) return err(t);
  // Template.render would declare the library's own raise_exception; our environment declares ours.
  const env = new Environment();
  const vars: Record<string, unknown> = {
    ...templateGlobals(),
    ...opts.extra,
    messages: messages.map(plain),
    add_generation_prompt: opts.addGenerationPrompt ?? false,
    bos_token: opts.bosToken ?? "",
    eos_token: opts.eosToken ?? "",
    tools: opts.tools ? [...opts.tools] : null,
  };
  try {
    for (const [k, v] of Object.entries(vars)) env.set(k, v);
    return ok(new Interpreter(env).run(t.parsed).value as string);
  } catch (e) {
    if (e instanceof TemplateRaised) return err(new ChatTemplateError("raised", `chat template raised: ${e.message}`));
    return err(new ChatTemplateError("render", `chat template failed to render: ${(e as Error).message}`));
  }
}
