// The `hf` template: the model's own Jinja chat template (tokenizer_config.json chat_template),
// rendered with @huggingface/jinja and cut into (prompt, response) pairs so the prompt can be masked.
// A turn's boundaries come from rendering the conversation's prefixes: the text up to a user turn with
// add_generation_prompt ends where the reply starts, the text through the reply ends where it stops.
// Templates that re-render history differently (Qwen3 drops thoughts of earlier turns) are handled by
// finding the reply's own text, and its closing markup, in the full rendering. Each piece is tokenised
// separately, as the slot templates do.

import { err, ok, type Result } from "neverthrow";
import { type ChatEncoder, type ChatMessage, definePlugin, type Message, renderChatTemplate, type Tokenizer } from "../../../core/index.ts";
import { fixSpecialTokens } from "./special-tokens.ts";

export default definePlugin({
  name: "lft-template-hf",
  setup(api) {
    api.register.templates({
      name: "hf",
      doc: "the model's own chat template (tokenizer_config.json chat_template)",
      options: { enable_thinking: { type: "boolean", doc: "passed to the chat template as enable_thinking (Qwen3); unset passes nothing" } },
      stopWords: [],
      supportsSystem: true,
      create(tokenizer, options) {
        const extra = options.enable_thinking === undefined ? {} : { enable_thinking: options.enable_thinking };
        return createHfEncoder(tokenizer, extra);
      },
    });
  },
});

interface Renderer {
  /** Throws the template's error (raise_exception or a render failure). */
  render(messages: readonly ChatMessage[], opts: { addGenerationPrompt: boolean; tools: readonly unknown[] }): string;
}

export function createHfEncoder(tokenizer: Tokenizer, extra: Readonly<Record<string, unknown>> = {}): Result<ChatEncoder, string> {
  const source = tokenizer.chatTemplate;
  if (source === null) return err(`chat template "hf": the tokenizer has no chat_template (tokenizer_config.json); choose a named template`);
  const tokenText = (id: number | null) => (id === null ? "" : (tokenizer.idToToken(id) ?? ""));
  const vars = { bosToken: tokenText(tokenizer.bosId), eosToken: tokenText(tokenizer.eosId), extra: { ...extra } };
  const probe = renderChatTemplate(source, [], { bosToken: vars.bosToken, eosToken: vars.eosToken, extra: vars.extra });
  if (probe.isErr() && probe.error.kind === "syntax") return err(`chat template "hf": the model's chat_template does not parse: ${probe.error.message}`);
  const renderer: Renderer = {
    render(messages, o) {
      const r = renderChatTemplate(source, messages, {
        addGenerationPrompt: o.addGenerationPrompt,
        bosToken: vars.bosToken,
        eosToken: vars.eosToken,
        tools: o.tools.length > 0 ? o.tools : undefined,
        extra: vars.extra,
      });
      if (r.isErr()) throw r.error;
      return r.value;
    },
  };
  const fixed = fixSpecialTokens({ name: "hf", stopWords: [] }, tokenizer);
  if (fixed.isErr()) return err(fixed.error);
  const supportsSystem = probeSystem(renderer);
  const encode = (text: string) => (text.length === 0 ? [] : tokenizer.encode(text, { addSpecialTokens: false }));

  const segments = (messages: readonly Message[], system: string, tools: string): Result<[string, string][], string> => {
    if (system && !supportsSystem) return err("this model's chat template does not accept a system prompt");
    let toolList: unknown[] = [];
    if (tools) {
      try {
        const parsed = JSON.parse(tools) as unknown;
        toolList = (Array.isArray(parsed) ? parsed : [parsed]).map((t) =>
          (t as { type?: unknown }).type === "function" ? t : { type: "function", function: t },
        );
      } catch {
        return err(`tools are not valid JSON: ${JSON.stringify(tools.slice(0, 80))}`);
      }
    }
    const jm: ChatMessage[] = system ? [{ role: "system", content: system }] : [];
    for (const m of messages) {
      const converted = toJinja(m);
      if (converted.isErr()) return err(converted.error);
      jm.push(converted.value);
    }
    const head = system ? 1 : 0;
    const render = (n: number, gen: boolean) => renderer.render(jm.slice(0, n), { addGenerationPrompt: gen, tools: toolList });
    const renderWith = (next: ChatMessage) => renderer.render([...jm, next], { addGenerationPrompt: false, tools: toolList });
    try {
      const full = render(jm.length, false);
      const pairs: [string, string][] = [];
      let cursor = 0;
      for (let t = 0; t + 1 < messages.length; t += 2) {
        const reply = messages[t + 1]!;
        const upto = render(head + t + 1, true);
        let start = full.startsWith(upto) && upto.length >= cursor ? upto.length : full.indexOf(reply.content, cursor);
        if (start < 0) return err(`cannot find turn ${t + 1} in the rendered chat template`);
        const last = t + 2 >= messages.length;
        // The reply rendered last (or, for the last reply, followed by another user turn) shows how it closes.
        const through = last ? renderWith({ role: "user", content: "\u2063" }) : render(head + t + 2, false);
        let end: number;
        if (!last && full.startsWith(through)) end = through.length;
        else {
          const at = full.indexOf(reply.content, start);
          const own = last ? through.indexOf(reply.content, start) : through.lastIndexOf(reply.content);
          if (at < 0 || own < 0) return err(`cannot find the end of turn ${t + 1} in the rendered chat template`);
          end = at + reply.content.length;
          end += closingLength(full.slice(end), through.slice(own + reply.content.length), tokenizer.specialTokens);
        }
        if (end < start) start = end;
        pairs.push([full.slice(cursor, start), full.slice(start, end)]);
        cursor = end;
      }
      // Text after the last reply's end (Llama 3.0's template always appends an assistant header) is
      // a generation prompt, not part of the conversation: it is left out rather than learned.
      return ok(pairs);
    } catch (e) {
      return err(`the model's chat template failed: ${(e as Error).message}`);
    }
  };

  return ok({
    name: "hf",
    stopWords: [],
    supportsSystem,
    efficientEos: false,
    ...fixed.value,
    eosText: tokenText(fixed.value.eosId),
    encodeMultiturn(messages, system, tools) {
      const s = segments(messages, system, tools);
      return s.isErr() ? err(s.error) : ok(s.value.map(([p, r]) => [encode(p), encode(r)] as [number[], number[]]));
    },
    encodeOneturn(messages, system, tools) {
      const s = segments(messages, system, tools);
      if (s.isErr()) return err(s.error);
      const last = s.value[s.value.length - 1];
      const prompt = s.value.slice(0, -1).flatMap(([p, r]) => [...encode(p), ...encode(r)]);
      return ok([[...prompt, ...encode(last?.[0] ?? "")], encode(last?.[1] ?? "")]);
    },
  });
}

/**
 * How much of the text after a reply (`rest`, from the full rendering) closes it, judged against the
 * same reply's closing in another rendering (`other`): all of `other`'s closing when `rest` has it
 * unchanged (ChatML's "<|im_end|>\n"); all of `rest` when `other` continues it (the last reply); else
 * the shared text up to the end of its first special token (Llama 3 closes with <|eot_id|> and then
 * writes a header that belongs to the next turn, or a generation prompt after the last one).
 */
function closingLength(rest: string, other: string, specials: ReadonlySet<string>): number {
  if (rest.startsWith(other)) return other.length;
  if (other.startsWith(rest)) return rest.length;
  let common = 0;
  while (common < rest.length && rest.charCodeAt(common) === other.charCodeAt(common)) common++;
  const shared = rest.slice(0, common);
  let first = -1;
  let cut = 0;
  for (const sp of specials) {
    const i = shared.indexOf(sp);
    if (i >= 0 && (first < 0 || i < first)) {
      first = i;
      cut = i + sp.length;
    }
  }
  return cut;
}

function toJinja(m: Message): Result<ChatMessage, string> {
  switch (m.role) {
    case "user":
    case "assistant":
      return ok({ role: m.role, content: m.content });
    case "observation":
      return ok({ role: "tool", content: m.content });
    case "function": {
      try {
        const parsed = JSON.parse(m.content) as unknown;
        const calls = (Array.isArray(parsed) ? parsed : [parsed]) as { name: string; arguments: unknown }[];
        return ok({
          role: "assistant",
          content: "",
          tool_calls: calls.map((c) => ({ type: "function" as const, function: { name: c.name, arguments: c.arguments } })),
        });
      } catch {
        return err("function call is not valid JSON");
      }
    }
  }
}

/** Whether the template accepts a system turn at all (Gemma's raises an exception). */
function probeSystem(r: Renderer): boolean {
  try {
    r.render(
      [
        { role: "system", content: "s" },
        { role: "user", content: "u" },
      ],
      { addGenerationPrompt: true, tools: [] },
    );
    return true;
  } catch {
    return false;
  }
}
