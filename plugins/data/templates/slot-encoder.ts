// A SlotTemplateSpec bound to a tokenizer: LLaMA-Factory's Template._encode (plus Llama2Template's
// system fusing and ReasoningTemplate's empty thoughts), with its special-token fixes (replace_eos,
// EOS fallback, pad = EOS, stop words registered as special tokens on a copy of the tokenizer).

import { err, ok, type Result } from "neverthrow";
import type { ChatEncoder, Message, Tokenizer } from "../../../core/index.ts";
import { EOS, type Slot, type SlotTemplateSpec } from "./slot-spec.ts";
import { fillSlots, firstText, type SpecialIds, slotsToIds } from "./slots.ts";
import { fixSpecialTokens } from "./special-tokens.ts";
import { parseCalls, TOOL_UTILS, type ToolFormat } from "./tools.ts";

export interface SlotTemplateOptions {
  /** Replaces the template's default system prompt. */
  readonly defaultSystem?: string;
  readonly toolFormat?: ToolFormat;
  /** Reasoning templates: train on thoughts (true) or hide an empty thought in the prompt (false). */
  readonly enableThinking?: boolean;
  readonly toolDate?: string;
}

export const DEFAULT_THOUGHT_WORDS: readonly [string, string] = ["<think>\n", "\n</think>\n\n"];

export function createSlotEncoder(spec: SlotTemplateSpec, given: Tokenizer, opts: SlotTemplateOptions = {}): Result<ChatEncoder, string> {
  const efficientEos = spec.efficientEos ?? false;
  const defaultAssistant: Slot[] = efficientEos ? ["{{content}}"] : ["{{content}}", EOS];
  const user = spec.user;
  const assistant = spec.assistant ?? defaultAssistant;
  const system = spec.system ?? ["{{content}}"];
  // LLaMA-Factory: a template without a function slot formats calls with its assistant slots (EOS and
  // the separator after it included), in the default tool format.
  const fn = spec.function ?? assistant;
  const observation = spec.observation ?? spec.user;
  const prefix = spec.prefix ?? [];
  const toolUtils = TOOL_UTILS[opts.toolFormat ?? spec.toolFormat ?? "default"];
  const defaultSystem = opts.defaultSystem ?? spec.defaultSystem ?? "";
  const thought = spec.thoughtWords ?? DEFAULT_THOUGHT_WORDS;
  const enableThinking = opts.enableThinking ?? true;
  const toolDate = opts.toolDate ?? "26 Jul 2024";

  const fixed = fixSpecialTokens(spec, given);
  if (fixed.isErr()) return err(fixed.error);
  // Encode with the stop words registered as special tokens, as LLaMA-Factory's tokenizer is.
  const { tokenizer, eosId, padId, stopIds, warnings } = fixed.value;
  const specials: SpecialIds = { bosId: tokenizer.bosId, eosId };
  const thoughtIds = tokenizer.encode(thought[0] + thought[1], { addSpecialTokens: false });
  const thoughtRe = new RegExp(`${escapeRe(thought[0])}([\\s\\S]*?)${escapeRe(thought[1])}`);
  const thoughtReAll = new RegExp(thoughtRe.source, "g");

  const ids = (slots: Slot[]): Result<number[], string> => {
    const r = slotsToIds(tokenizer, specials, slots);
    return typeof r === "string" ? err(r) : ok(r);
  };

  const describeTool = (v: unknown): string => (Array.isArray(v) ? "a list" : v === null ? "null" : `${typeof v} ${String(v).slice(0, 40)}`);
  const toolText = (tools: string): Result<string, string> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(tools);
    } catch {
      return err(`tools are not valid JSON: ${JSON.stringify(tools.slice(0, 80))}`);
    }
    const list = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
    const notObject = list.findIndex((t) => typeof t !== "object" || t === null || Array.isArray(t));
    if (notObject >= 0) return err(`tool ${notObject + 1} must be a JSON object (a function schema), found ${describeTool(list[notObject])}`);
    try {
      return ok(list.length === 0 ? "" : toolUtils.formatTools(list, { date: toolDate }));
    } catch (e) {
      // A schema of the wrong shape deeper down (properties: null, required: 5) is the row's fault, not a crash.
      return err(`tools cannot be formatted (${(e as Error).message}): ${tools.slice(0, 80)}`);
    }
  };

  const functionText = (content: string): Result<string, string> => {
    const m = thoughtRe.exec(content);
    const body = m ? content.replace(m[0], "") : content;
    try {
      return ok((m ? m[0] : "") + toolUtils.formatCalls(parseCalls(body)));
    } catch (e) {
      return err(`function call is not valid JSON: ${(e as Error).message}`);
    }
  };

  /** LLaMA-Factory's Template._encode: ids per message; turn 0 carries prefix and system. */
  const encodeMessages = (messages: readonly Message[], sys: string, tools: string): Result<number[][], string> => {
    const sysText = sys || defaultSystem;
    const out: number[][] = [];
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      const elements: Slot[] = [];
      let fused = "";
      if (i === 0) {
        elements.push(...prefix);
        if (sysText || tools) {
          const t = tools ? toolText(tools) : ok("");
          if (t.isErr()) return err(t.error);
          const filled = fillSlots(system, [["content", sysText + t.value]]);
          if (spec.fuseSystem) fused = firstText(filled);
          else elements.push(...filled);
        }
      }
      switch (message.role) {
        case "user":
          elements.push(
            ...fillSlots(
              user,
              spec.fuseSystem
                ? [["content", fused + message.content]]
                : [
                    ["content", message.content],
                    ["idx", String(Math.floor(i / 2))],
                  ],
            ),
          );
          break;
        case "assistant":
          elements.push(...fillSlots(assistant, [["content", message.content]]));
          break;
        case "observation":
          elements.push(...fillSlots(observation, [["content", message.content]]));
          break;
        case "function": {
          const f = functionText(message.content);
          if (f.isErr()) return err(f.error);
          elements.push(...fillSlots(fn, [["content", f.value]]));
          break;
        }
      }
      const encoded = ids(elements);
      if (encoded.isErr()) return err(encoded.error);
      out.push(encoded.value);
    }
    return ok(out);
  };

  const hasThought = (content: string) => content.includes(thought[0].trim()) || content.includes(thought[1].trim());
  const removeThought = (content: string) => content.replace(thoughtReAll, "").replace(/^\n+/, "");
  const withContent = (m: Message, content: string): Message => ({ role: m.role, content });

  const encodeMultiturn = (
    messages: readonly Message[],
    sys: string,
    tools: string,
    o: { readonly maskHistory?: boolean } = {},
  ): Result<[number[], number[]][], string> => {
    // LLaMA-Factory's ReasoningTemplate: without thinking every reply loses its thought; with
    // mask_history the history replies do, and only the last turn gets an empty thought.
    const lastReply = messages.length - 1;
    const maskHistory = spec.reasoning === true && o.maskHistory === true;
    let msgs = messages;
    if (spec.reasoning && (!enableThinking || maskHistory)) {
      msgs = msgs.map((m, i) => (i % 2 === 1 && (!enableThinking || i < lastReply) ? withContent(m, removeThought(m.content)) : m));
    }
    const enc = encodeMessages(msgs, sys, tools);
    if (enc.isErr()) return err(enc.error);
    const e = enc.value;
    if (spec.reasoning) {
      for (let i = 0; i + 1 < msgs.length; i += 2) {
        if (maskHistory && i + 1 < lastReply) continue;
        if (hasThought(msgs[i + 1]!.content)) continue;
        if (!enableThinking) e[i] = [...e[i]!, ...thoughtIds];
        else e[i + 1] = [...thoughtIds, ...e[i + 1]!];
      }
    }
    const pairs: [number[], number[]][] = [];
    for (let i = 0; i + 1 < e.length; i += 2) pairs.push([e[i]!, e[i + 1]!]);
    return ok(pairs);
  };

  const encodeOneturn = (messages: readonly Message[], sys: string, tools: string): Result<[number[], number[]], string> => {
    let msgs = messages;
    const last = msgs.length - 1;
    if (spec.reasoning) {
      msgs = msgs.map((m, i) => ((i % 2 === 1 && i < last - 1) || (i === last && !enableThinking) ? withContent(m, removeThought(m.content)) : m));
    }
    const enc = encodeMessages(msgs, sys, tools);
    if (enc.isErr()) return err(enc.error);
    let prompt = enc.value.slice(0, -1).flat();
    let response = enc.value[enc.value.length - 1] ?? [];
    if (spec.reasoning && !hasThought(msgs[last]!.content)) {
      if (!enableThinking) prompt = [...prompt, ...thoughtIds];
      else response = [...thoughtIds, ...response];
    }
    return ok([prompt, response]);
  };

  return ok({
    name: spec.name,
    stopWords: spec.stopWords ?? [],
    supportsSystem: true,
    efficientEos,
    eosId,
    padId,
    stopIds,
    eosText: spec.ptEos ?? tokenizer.idToToken(eosId) ?? "",
    toolFormat: opts.toolFormat ?? spec.toolFormat ?? "default",
    warnings,
    encodeMultiturn,
    encodeOneturn,
  });
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
