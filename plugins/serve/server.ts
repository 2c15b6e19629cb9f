// The OpenAI-compatible HTTP server (Bun.serve): GET /v1/models, GET /v1/models/{id} and
// POST /v1/chat/completions, each behind the API key. Bodies are capped, malformed JSON and wrong
// types answer 400 with OpenAI's error object, and generation goes through one queue.
import { timingSafeEqual } from "node:crypto";
import type { ServedModel } from "../runner/index.ts";
import { complete } from "./completion.ts";
import { ApiError, badRequest, notFound, unauthorized } from "./errors.ts";
import { GenerationQueue } from "./queue.ts";
import { parseChatRequest } from "./request.ts";

export interface ApiServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly apiKey: string;
  /** Largest request body accepted, in bytes (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Most sequences generated together (greedy requests batched; default 8, 1 = one request at a time). */
  readonly maxBatch?: number;
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly queue: GenerationQueue;
  stop(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
export const DEFAULT_MAX_BATCH = 8;

function keyMatches(header: string | null, key: string): boolean {
  const given = Buffer.from(header?.startsWith("Bearer ") ? header.slice(7).trim() : "");
  const wanted = Buffer.from(key);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function modelObject(model: ServedModel, created: number) {
  return { id: model.id, object: "model", created, owned_by: "lft" };
}

async function bodyOf(req: Request, cap: number): Promise<unknown | ApiError> {
  const tooBig = () =>
    new ApiError(413, {
      message: `the request body is larger than ${cap} bytes (lft api --max-body)`,
      type: "invalid_request_error",
      param: null,
      code: "request_too_large",
    });
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > cap) return tooBig();
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (bytes.length > cap) return tooBig();
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch {
    return badRequest("We could not parse the JSON body of your request: send a JSON object (Content-Type: application/json)", null, "invalid_json");
  }
}

export function startApiServer(model: ServedModel, options: ApiServerOptions): ApiServer {
  const queue = new GenerationQueue(model, options.maxBatch ?? DEFAULT_MAX_BATCH);
  const cap = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const created = Math.floor(Date.now() / 1000);
  const server = Bun.serve({
    hostname: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    // Bun refuses anything larger before it is read; smaller bodies over the cap get our error object.
    maxRequestBodySize: cap + 64 * 1024,
    idleTimeout: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname.replace(/\/+$/, "");
      if (!keyMatches(req.headers.get("authorization"), options.apiKey)) return unauthorized().response();
      if (path === "/v1/models" || path.startsWith("/v1/models/")) {
        if (req.method !== "GET")
          return new ApiError(405, {
            message: `${req.method} ${path} is not allowed; use GET`,
            type: "invalid_request_error",
            param: null,
            code: null,
          }).response();
        if (path === "/v1/models") return Response.json({ object: "list", data: [modelObject(model, created)] });
        const id = decodeURIComponent(path.slice("/v1/models/".length));
        return id === model.id
          ? Response.json(modelObject(model, created))
          : notFound(`The model "${id}" does not exist: this server serves "${model.id}"`, "model_not_found").response();
      }
      if (path === "/v1/chat/completions") {
        if (req.method !== "POST")
          return new ApiError(405, {
            message: `${req.method} ${path} is not allowed; use POST`,
            type: "invalid_request_error",
            param: null,
            code: null,
          }).response();
        const body = await bodyOf(req, cap);
        if (body instanceof ApiError) return body.response();
        const parsed = parseChatRequest(body);
        if (parsed.isErr()) return parsed.error.response();
        return complete(model, parsed.value, queue, req.signal);
      }
      return notFound(`no route ${req.method} ${path}: this server has GET /v1/models and POST /v1/chat/completions`).response();
    },
    error() {
      return new ApiError(500, { message: "internal error while handling the request", type: "server_error", param: null, code: null }).response();
    },
  });
  const host = server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname;
  return {
    url: `http://${host}:${server.port}`,
    port: server.port ?? 0,
    queue,
    async stop() {
      queue.close();
      await server.stop(true);
    },
  };
}
