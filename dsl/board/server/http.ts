// The board's HTTP plumbing: JSON answers, error objects in OpenAI's shape ({error: {message, type}}),
// and request bodies read with a size cap, so bad input gets a clear answer and never a stack trace.

/** The largest request body the board reads (recipes are small; a form is smaller). */
export const maxBodyBytes = 1024 * 1024;

export type ErrorType = "invalid_request" | "unauthorized" | "not_found" | "too_large" | "server_error" | "unprocessable" | "bad_gateway" | "too_many";

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
}

export function errorResponse(status: number, type: ErrorType, message: string): Response {
  return json({ error: { message, type } }, status);
}

/** A request failed for a reason the client can act on: becomes an error response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
  ) {
    super(message);
  }
  toResponse(): Response {
    return errorResponse(this.status, this.type, this.message);
  }
}

/** Reads the body as text, refusing more than `limit` bytes (by Content-Length and while reading). */
export async function readBody(req: Request, limit = maxBodyBytes): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  if (req.body === null) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "too_large", `the request body is over ${limit / 1024 / 1024} MiB; the board reads at most that`);
}

/** The body as a JSON object; 400 with the parser's message when it is not one. */
export async function readJsonObject(req: Request, limit = maxBodyBytes): Promise<Record<string, unknown>> {
  const text = await readBody(req, limit);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new HttpError(400, "invalid_request", `the request body is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new HttpError(400, "invalid_request", "the request body must be a JSON object");
  return parsed as Record<string, unknown>;
}

/** A string field of a request body, or 400 naming it. */
export function stringField(body: Record<string, unknown>, key: string, required = true): string | undefined {
  const value = body[key];
  if (value === undefined && !required) return undefined;
  if (typeof value !== "string") throw new HttpError(400, "invalid_request", `"${key}" must be a string${value === undefined ? " (it is missing)" : ""}`);
  return value;
}
