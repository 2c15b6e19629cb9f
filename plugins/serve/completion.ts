// One chat completion: the conversation rendered through the model's template, checked against the
// model's context, generated in the queue (n choices as one batch of the same prompt), and answered as
// OpenAI's chat.completion object, or streamed as chat.completion.chunk events ending in `data: [DONE]`.
// With tools, a reply written in the template's tool format comes back as `tool_calls`.
import { randomUUID } from "node:crypto";
import { err, ok, type Result } from "neverthrow";
import type { FinishReason, GenerateResult, TokenEvent } from "../../core/index.ts";
import { extractCalls, TOOL_FORMATS, type ToolFormat } from "../data/index.ts";
import type { ServedModel } from "../runner/index.ts";
import { type ApiError, badRequest, notFound, serverError } from "./errors.ts";
import type { GenerationJob, GenerationQueue, JobOutcome } from "./queue.ts";
import type { ChatRequest } from "./request.ts";

interface Prepared {
  readonly prompt: number[];
  readonly maxTokens: number;
  readonly seed: number;
}

type Json = Record<string, unknown>;

function prepare(model: ServedModel, req: ChatRequest): Result<Prepared, ApiError> {
  if (req.model !== model.id)
    return err(notFound(`The model "${req.model}" does not exist: this server serves "${model.id}" (GET /v1/models)`, "model_not_found"));
  if (req.tools !== "" && model.toolFormat === undefined)
    return err(
      badRequest(
        `tools need a template with a tool format, and this model is served with ${model.describe}; start lft api with --template (e.g. default, qwen, llama3)`,
        "tools",
      ),
    );
  const system = req.conversation.system !== "" ? req.conversation.system : model.defaultSystem;
  const prompt = model.render(req.conversation.turns, system, req.tools);
  if (prompt.isErr()) return err(badRequest(prompt.error, "messages"));
  const context = model.contextLength;
  const promptTokens = prompt.value.length;
  const maxTokens = req.maxTokens ?? context - promptTokens;
  if (promptTokens + maxTokens > context || maxTokens < 1)
    return err(
      badRequest(
        `This model's maximum context length is ${context} tokens. However, you requested ${promptTokens + Math.max(maxTokens, 1)} tokens (${promptTokens} in the messages, ${Math.max(maxTokens, 1)} in the completion). Please reduce the length of the messages or the completion.`,
        "messages",
        "context_length_exceeded",
      ),
    );
  return ok({ prompt: prompt.value, maxTokens, seed: req.seed ?? Math.floor(Math.random() * 2 ** 31) });
}

const finishOf = (r: FinishReason): "stop" | "length" => (r === "length" ? "length" : "stop");

/** The reply as an assistant message: tool calls when tools were offered and the reply is written as calls. */
function messageOf(model: ServedModel, req: ChatRequest, text: string): { message: Json; calls: boolean } {
  const format = model.toolFormat as ToolFormat | undefined;
  if (req.tools !== "" && format !== undefined && TOOL_FORMATS.includes(format)) {
    const calls = extractCalls(format, text);
    if (calls !== null) {
      const toolCalls = calls.map((c) => ({
        id: `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
        type: "function",
        function: { name: c.name, arguments: c.arguments },
      }));
      return { message: { role: "assistant", content: null, tool_calls: toolCalls }, calls: true };
    }
  }
  return { message: { role: "assistant", content: text }, calls: false };
}

function usageOf(prepared: Prepared, result: GenerateResult): Json {
  const completion = result.tokens.reduce((s, t) => s + t.length, 0);
  return { prompt_tokens: prepared.prompt.length, completion_tokens: completion, total_tokens: prepared.prompt.length + completion };
}

function jobFor(req: ChatRequest, p: Prepared, signal: AbortSignal, onToken?: (e: TokenEvent) => void): GenerationJob {
  return {
    prompts: Array.from({ length: req.n }, () => p.prompt),
    sampling: { maxNewTokens: p.maxTokens, temperature: req.temperature, topP: req.topP, seed: p.seed },
    stop: req.stop,
    signal,
    ...(onToken !== undefined && { onToken }),
  };
}

const failureOf = (o: JobOutcome): ApiError | null =>
  o.kind === "failed" ? serverError(`generation failed: ${o.message}`) : o.kind === "cancelled" ? serverError("the request was cancelled") : null;

export async function complete(model: ServedModel, req: ChatRequest, queue: GenerationQueue, signal: AbortSignal): Promise<Response> {
  const checked = prepare(model, req);
  if (checked.isErr()) return checked.error.response();
  const prepared = checked.value;
  const id = `chatcmpl-${randomUUID().replaceAll("-", "")}`;
  const created = Math.floor(Date.now() / 1000);
  if (req.stream) return streamed(model, req, prepared, queue, signal, { id, created });
  const outcome = await queue.run(jobFor(req, prepared, signal));
  const failure = failureOf(outcome);
  if (failure !== null || outcome.kind !== "done") return (failure ?? serverError("no result")).response();
  const result = outcome.result;
  const choices = (result.texts ?? []).map((text, index) => {
    const { message, calls } = messageOf(model, req, text);
    return { index, message, logprobs: null, finish_reason: calls ? "tool_calls" : finishOf(result.finishReasons[index]!) };
  });
  return Response.json({ id, object: "chat.completion", created, model: model.id, choices, usage: usageOf(prepared, result), system_fingerprint: null });
}

function streamed(
  model: ServedModel,
  req: ChatRequest,
  p: Prepared,
  queue: GenerationQueue,
  signal: AbortSignal,
  meta: { id: string; created: number },
): Response {
  const encoder = new TextEncoder();
  const gone = new AbortController();
  signal.addEventListener("abort", () => gone.abort(), { once: true });
  // With tools the reply is held back: whether it is a call is known only once it is complete.
  const holdBack = req.tools !== "";
  const chunk = (choices: Json[], extra: Json = {}): Json => ({
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: model.id,
    choices,
    ...extra,
  });
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (data: unknown): void => {
        if (!gone.signal.aborted) controller.enqueue(encoder.encode(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`));
      };
      send(chunk(Array.from({ length: req.n }, (_, index) => ({ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }))));
      const onToken = (e: TokenEvent): void => {
        if (!holdBack && e.text) send(chunk([{ index: e.row, delta: { content: e.text }, logprobs: null, finish_reason: null }]));
      };
      const outcome = await queue.run(jobFor(req, p, gone.signal, onToken));
      if (outcome.kind === "done") {
        const result = outcome.result;
        (result.texts ?? []).forEach((text, index) => {
          let delta: Json = {};
          let finish: string = finishOf(result.finishReasons[index]!);
          if (holdBack) {
            const { message, calls } = messageOf(model, req, text);
            delta = calls ? { tool_calls: (message.tool_calls as Json[]).map((c, i) => ({ index: i, ...c })) } : { content: text };
            if (calls) finish = "tool_calls";
          }
          send(chunk([{ index, delta, logprobs: null, finish_reason: finish }]));
        });
        if (req.includeUsage) send(chunk([], { usage: usageOf(p, result) }));
      } else if (outcome.kind === "failed") send({ error: failureOf(outcome)!.body });
      send("[DONE]");
      if (!gone.signal.aborted) controller.close();
    },
    cancel() {
      gone.abort();
    },
  });
  return new Response(body, { headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" } });
}
