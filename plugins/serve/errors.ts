// OpenAI-style error objects: every refusal the server gives is `{error: {message, type, param, code}}`
// with the HTTP status OpenAI uses for it, so clients (the official SDKs) raise their usual exceptions.

export interface ApiErrorBody {
  readonly message: string;
  readonly type: "invalid_request_error" | "authentication_error" | "not_found_error" | "server_error";
  readonly param: string | null;
  readonly code: string | null;
}

export class ApiError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {}

  response(): Response {
    return Response.json({ error: this.body }, { status: this.status });
  }
}

/** 400: the request is malformed or asks for something this server cannot do. */
export function badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, { message, type: "invalid_request_error", param, code });
}

export function unauthorized(): ApiError {
  return new ApiError(401, {
    message: "Missing or incorrect API key: send it as `Authorization: Bearer <key>` (the key lft api printed, --api-key, or LFT_API_KEY)",
    type: "invalid_request_error",
    param: null,
    code: "invalid_api_key",
  });
}

export function notFound(message: string, code: string | null = null): ApiError {
  return new ApiError(404, { message, type: "invalid_request_error", param: null, code });
}

export function serverError(message: string): ApiError {
  return new ApiError(500, { message, type: "server_error", param: null, code: null });
}
