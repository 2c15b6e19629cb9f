// How chat turns messages into prompt ids, the way training saw them: a named template (model {
// template = default }) through its registry entry; otherwise the tokenizer's own chat template, through
// the `hf` template entry as the data worker uses it (segment by segment), or rendered whole with the
// generation prompt (transformers' apply_chat_template) where no `hf` entry is registered; and for a
// base model with neither, the raw text after BOS, as it was pre-trained.
import { ok, type Result } from "neverthrow";
import { type ChatEncoder, generationOptions, type Message, renderChatTemplate, validateOptions } from "../../core/index.ts";
import { rememberedSettings } from "./chat-settings.ts";
import { fail, type RunFailure } from "./failure.ts";
import { recipePath } from "./paths.ts";
import type { Scope } from "./scope.ts";

export interface PromptRenderer {
  /** What the chat header says: `template default`, `the tokenizer's chat template`, `raw text`. */
  readonly describe: string;
  /** Whether earlier turns can be part of a prompt (not for raw text). */
  readonly multiTurn: boolean;
  readonly stopIds: readonly number[];
  readonly stopStrings: readonly string[];
  readonly padId: number;
  /** How the template writes tools and calls (a tool format name); undefined when it cannot take tools. */
  readonly toolFormat?: string;
  /**
   * `turns` alternate user/assistant and end with the user's; `system` "" keeps the template's default;
   * `tools` is a JSON list of tools as LLaMA-Factory's datasets hold it ("" for none).
   */
  render(turns: readonly Message[], system: string, tools?: string): Result<number[], RunFailure>;
}

export function promptRenderer(scope: Pick<Scope, "recipe" | "registry" | "state">): Result<PromptRenderer, RunFailure> {
  const { recipe, registry, state } = scope;
  const { tokenizer } = state;
  const eos = generationOptions(state.generation, state.spec).eosTokenIds ?? [];
  const padId = tokenizer.padId ?? eos[0] ?? 0;
  const named = recipe.model?.options.template ?? rememberedSettings(recipe, (p) => recipePath(recipe, p))?.template;
  // As the data worker decides: a named template, else `hf` (the tokenizer's chat template) when there is one.
  const name = typeof named === "string" ? named : tokenizer.chatTemplate !== null ? "hf" : undefined;
  if (name !== undefined && (typeof named === "string" || registry.has("templates", name))) {
    const entry = registry.get("templates", name);
    if (entry.isErr()) return fail(`template ${name}: ${entry.error.message}`);
    const options = validateOptions(entry.value.options ?? {}, {}, `chat template "${name}"`);
    if (options.isErr()) return fail(options.error.map((e) => e.message).join("; "));
    const encoder = entry.value.create(tokenizer, options.value);
    if (encoder.isErr()) return fail(encoder.error);
    return ok(templateRenderer(encoder.value, typeof named === "string" ? `template ${name}` : "the tokenizer's chat template"));
  }
  const chatTemplate = tokenizer.chatTemplate;
  if (chatTemplate !== null) {
    // No `hf` template registered: render the whole conversation, as transformers' apply_chat_template.
    const token = (id: number | null) => (id === null ? null : (tokenizer.idToToken(id) ?? null));
    return ok({
      describe: "the tokenizer's chat template",
      multiTurn: true,
      stopIds: eos,
      stopStrings: [],
      padId,
      render(turns, system, tools = "") {
        const messages = [...(system === "" ? [] : [{ role: "system", content: system }]), ...turns.map((m) => ({ role: m.role, content: m.content }))];
        const toolList = tools === "" ? undefined : (JSON.parse(tools) as unknown[]);
        const text = renderChatTemplate(chatTemplate, messages, {
          ...(toolList !== undefined && { tools: toolList }),
          addGenerationPrompt: true,
          bosToken: token(tokenizer.bosId),
          eosToken: token(tokenizer.eosId),
        });
        if (text.isErr()) return fail(text.error.message);
        return ok(tokenizer.encode(text.value, { addSpecialTokens: false }));
      },
    });
  }
  return ok({
    describe: "raw text (the model has no chat template; set model { template = ... } for one)",
    multiTurn: false,
    stopIds: eos,
    stopStrings: [],
    padId,
    render(turns, system, tools = "") {
      if (tools !== "") return fail("tools need a chat template; set model { template = ... } (e.g. default, qwen, llama3)");
      const last = turns.at(-1)?.content ?? "";
      return ok(tokenizer.encode(system === "" ? last : `${system}\n\n${last}`));
    },
  });
}

function templateRenderer(encoder: ChatEncoder, describe: string): PromptRenderer {
  return {
    describe,
    multiTurn: true,
    stopIds: encoder.stopIds,
    stopStrings: encoder.stopWords,
    padId: encoder.padId,
    ...(encoder.toolFormat !== undefined && { toolFormat: encoder.toolFormat }),
    render(turns, system, tools = "") {
      // The prompt of a one-turn encoding whose response is empty: what training put before a reply.
      const encoded = encoder.encodeOneturn([...turns, { role: "assistant", content: "" }], system, tools);
      if (encoded.isErr()) return fail(`template ${encoder.name}: ${encoded.error}`);
      return ok(encoded.value[0]);
    },
  };
}
