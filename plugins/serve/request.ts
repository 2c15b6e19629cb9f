// A /v1/chat/completions body checked field by field into what the server acts on. Wrong types and
// out-of-range values are refused with the parameter named (OpenAI's 400 shape); parameters this server
// does not implement are refused rather than ignored, except the few that change nothing here.
import { err, ok, type Result } from "neverthrow";
import { type ApiError, badRequest } from "./errors.ts";
import { conversationOf, type RenderedConversation } from "./messages.ts";

export interface ChatRequest {
  readonly model: string;
  readonly conversation: RenderedConversation;
  /** JSON list of the tools' function objects ("" for none, or tool_choice "none"). */
  readonly tools: string;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly temperature: number;
  readonly topP: number;
  /** Undefined: up to the model's context. */
  readonly maxTokens?: number;
  readonly stop: readonly string[];
  readonly n: number;
  /** Undefined: a fresh one per request (sampling is then not reproducible, as OpenAI's). */
  readonly seed?: number;
}

/** Most choices one request may ask for. */
export const MAX_CHOICES = 16;

const IGNORED = new Set(["user", "store", "metadata", "parallel_tool_calls", "stream_options", "service_tier"]);
const KNOWN = new Set([
  "model",
  "messages",
  "tools",
  "tool_choice",
  "stream",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "n",
  "seed",
]);
/** Accepted at their neutral value only. */
const NEUTRAL: Readonly<Record<string, unknown>> = { frequency_penalty: 0, presence_penalty: 0, logprobs: false };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function numberIn(body: Json, key: string, lo: number, hi: number, fallback: number, loOpen = false): Result<number, ApiError> {
  const v = body[key];
  if (v === undefined || v === null) return ok(fallback);
  if (typeof v !== "number" || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi)
    return err(badRequest(`${key} must be a number in ${loOpen ? "(" : "["}${lo}, ${hi}], got ${JSON.stringify(v)}`, key));
  return ok(v);
}

function integerAtLeast(body: Json, key: string, lo: number): Result<number | undefined, ApiError> {
  const v = body[key];
  if (v === undefined || v === null) return ok(undefined);
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < lo) return err(badRequest(`${key} must be an integer >= ${lo}, got ${JSON.stringify(v)}`, key));
  return ok(v);
}

function stopOf(v: unknown): Result<string[], ApiError> {
  if (v === undefined || v === null) return ok([]);
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list) || list.length > 4 || list.some((s) => typeof s !== "string" || s.length === 0))
    return err(badRequest("stop must be a non-empty string or a list of up to 4 non-empty strings", "stop"));
  return ok(list as string[]);
}

/** The tools as LLaMA-Factory's API passes them to the template: the list of function objects. */
function toolsOf(tools: unknown, choice: unknown): Result<string, ApiError> {
  if (choice !== undefined && choice !== null && choice !== "auto" && choice !== "none")
    return err(badRequest('tool_choice must be "auto" or "none": this server cannot force a call (the model decides)', "tool_choice"));
  if (tools === undefined || tools === null || choice === "none") return ok("");
  if (!Array.isArray(tools) || tools.length === 0) return err(badRequest("tools must be a non-empty list", "tools"));
  const functions: Json[] = [];
  for (const [i, t] of tools.entries()) {
    if (!isObject(t) || t.type !== "function" || !isObject(t.function) || typeof t.function.name !== "string")
      return err(badRequest(`tools[${i}] must be {"type": "function", "function": {"name": ..., "parameters": {...}}}`, "tools"));
    functions.push(t.function);
  }
  return ok(JSON.stringify(functions));
}

export function parseChatRequest(body: unknown): Result<ChatRequest, ApiError> {
  if (!isObject(body)) return err(badRequest("the request body must be a JSON object"));
  for (const key of Object.keys(body)) {
    if (KNOWN.has(key) || IGNORED.has(key)) continue;
    if (key in NEUTRAL) {
      if (body[key] === undefined || body[key] === null || body[key] === NEUTRAL[key]) continue;
      return err(badRequest(`${key} is not supported by this server (only ${JSON.stringify(NEUTRAL[key])})`, key));
    }
    return err(badRequest(`unknown parameter ${key}; this server takes ${[...KNOWN].join(", ")}`, key, "unknown_parameter"));
  }
  if (typeof body.model !== "string" || body.model === "") return err(badRequest("model must be a string: the name GET /v1/models lists", "model"));
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean") return err(badRequest("stream must be true or false", "stream"));
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isObject(streamOptions))
    return err(badRequest("stream_options must be an object", "stream_options"));
  const conversation = conversationOf(body.messages);
  if (conversation.isErr()) return err(conversation.error);
  const tools = toolsOf(body.tools, body.tool_choice);
  if (tools.isErr()) return err(tools.error);
  const temperature = numberIn(body, "temperature", 0, 2, 1);
  if (temperature.isErr()) return err(temperature.error);
  const topP = numberIn(body, "top_p", 0, 1, 1, true);
  if (topP.isErr()) return err(topP.error);
  const maxTokens = integerAtLeast(body, body.max_completion_tokens !== undefined ? "max_completion_tokens" : "max_tokens", 1);
  if (maxTokens.isErr()) return err(maxTokens.error);
  const n = integerAtLeast(body, "n", 1);
  if (n.isErr()) return err(n.error);
  if ((n.value ?? 1) > MAX_CHOICES) return err(badRequest(`n must be at most ${MAX_CHOICES}, got ${n.value}`, "n"));
  const seed = integerAtLeast(body, "seed", 0);
  if (seed.isErr()) return err(seed.error);
  const stop = stopOf(body.stop);
  if (stop.isErr()) return err(stop.error);
  return ok({
    model: body.model,
    conversation: conversation.value,
    tools: tools.value,
    stream: body.stream === true,
    includeUsage: isObject(streamOptions) && streamOptions.include_usage === true,
    temperature: temperature.value,
    topP: topP.value,
    ...(maxTokens.value !== undefined && { maxTokens: maxTokens.value }),
    stop: stop.value,
    n: n.value ?? 1,
    ...(seed.value !== undefined && { seed: seed.value }),
  });
}
