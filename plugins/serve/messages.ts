// OpenAI chat messages → the turns a chat template encodes, as LLaMA-Factory's API converts them:
// system (and developer) messages become the system prompt, an assistant's tool_calls a `function`
// turn holding the calls as JSON, `tool` results an `observation` turn; turns must alternate
// (user or tool) / assistant and end with a user or tool turn, since the model answers next.
import { err, ok, type Result } from "neverthrow";
import type { Message } from "../../core/index.ts";
import { type ApiError, badRequest } from "./errors.ts";

export interface RenderedConversation {
  readonly system: string;
  readonly turns: readonly Message[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A message's text: a string, null, or a list of `{type: "text", text}` parts. */
function textOf(content: unknown, where: string): Result<string, ApiError> {
  if (content === undefined || content === null) return ok("");
  if (typeof content === "string") return ok(content);
  if (Array.isArray(content)) {
    const parts: string[] = [];
    for (const [i, part] of content.entries()) {
      if (!isObject(part) || part.type !== "text" || typeof part.text !== "string")
        return err(badRequest(`${where}.content[${i}] must be {"type": "text", "text": "..."}; this server takes text only`, `${where}.content`));
      parts.push(part.text);
    }
    return ok(parts.join(""));
  }
  return err(badRequest(`${where}.content must be a string, null or a list of text parts`, `${where}.content`));
}

/** An assistant's tool_calls as the `function` turn's JSON ([{"name", "arguments": {...}}]). */
function callsTurn(calls: unknown, where: string): Result<string, ApiError> {
  if (!Array.isArray(calls) || calls.length === 0) return err(badRequest(`${where}.tool_calls must be a non-empty list`, `${where}.tool_calls`));
  const out: Json[] = [];
  for (const [i, call] of calls.entries()) {
    const fn = isObject(call) ? call.function : undefined;
    if (!isObject(fn) || typeof fn.name !== "string" || typeof fn.arguments !== "string")
      return err(
        badRequest(`${where}.tool_calls[${i}] must be {"type": "function", "function": {"name": ..., "arguments": "<JSON text>"}}`, `${where}.tool_calls`),
      );
    let args: unknown;
    try {
      args = JSON.parse(fn.arguments);
    } catch {
      return err(
        badRequest(`${where}.tool_calls[${i}].function.arguments is not JSON text: ${JSON.stringify(fn.arguments.slice(0, 80))}`, `${where}.tool_calls`),
      );
    }
    out.push({ name: fn.name, arguments: args });
  }
  return ok(JSON.stringify(out));
}

export function conversationOf(messages: unknown): Result<RenderedConversation, ApiError> {
  if (!Array.isArray(messages) || messages.length === 0) return err(badRequest("messages must be a non-empty list", "messages"));
  const systems: string[] = [];
  const turns: Message[] = [];
  for (const [i, m] of messages.entries()) {
    const where = `messages[${i}]`;
    if (!isObject(m) || typeof m.role !== "string") return err(badRequest(`${where} must be an object with a role`, "messages"));
    const text = textOf(m.content, where);
    if (text.isErr()) return err(text.error);
    const last = turns.at(-1);
    if (m.role === "system" || m.role === "developer") {
      if (turns.length > 0) return err(badRequest(`${where}: a system message must come before the conversation`, "messages"));
      systems.push(text.value);
    } else if (m.role === "user") {
      if (last !== undefined && last.role !== "assistant" && last.role !== "function")
        return err(badRequest(`${where}: two user turns in a row; turns must alternate user and assistant`, "messages"));
      turns.push({ role: "user", content: text.value });
    } else if (m.role === "tool") {
      // Results of several calls of one assistant turn form one observation.
      if (last?.role === "observation") turns[turns.length - 1] = { role: "observation", content: `${last.content}\n${text.value}` };
      else if (last?.role === "function") turns.push({ role: "observation", content: text.value });
      else return err(badRequest(`${where}: a tool message must follow an assistant message with tool_calls`, "messages"));
    } else if (m.role === "assistant") {
      if (last === undefined || (last.role !== "user" && last.role !== "observation"))
        return err(badRequest(`${where}: an assistant turn must follow a user or tool turn`, "messages"));
      if (m.tool_calls !== undefined && m.tool_calls !== null) {
        const calls = callsTurn(m.tool_calls, where);
        if (calls.isErr()) return err(calls.error);
        turns.push({ role: "function", content: calls.value });
      } else turns.push({ role: "assistant", content: text.value });
    } else return err(badRequest(`${where}.role "${m.role}" is not one of system, developer, user, assistant, tool`, "messages"));
  }
  const end = turns.at(-1);
  if (end === undefined || (end.role !== "user" && end.role !== "observation"))
    return err(badRequest("the last message must be a user or tool message: the model answers it", "messages"));
  return ok({ system: systems.join("\n"), turns });
}
