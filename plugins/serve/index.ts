// Serving models: the `lft api` verb (an OpenAI-compatible HTTP server) and the public entry of what it
// is built on, for other areas (the board's chat page) and for scripts and tests.
import { definePlugin } from "../../core/index.ts";
import { apiCommand } from "./command.ts";

export { ApiError, type ApiErrorBody } from "./errors.ts";
export { conversationOf, type RenderedConversation } from "./messages.ts";
export { type GenerationJob, GenerationQueue, type JobOutcome, type QueueStats } from "./queue.ts";
export { type ChatRequest, MAX_CHOICES, parseChatRequest } from "./request.ts";
export { type ApiServer, type ApiServerOptions, DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, startApiServer } from "./server.ts";

export default definePlugin({
  name: "lft-serve",
  setup(api) {
    api.register.commands(apiCommand);
  },
});
