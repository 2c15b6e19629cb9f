// The Chat page's sessions: each is a child `lft api MODEL [--adapter DIR] --port 0 --api-key K`
// (one per model, adapter and template, reused), started on demand; the board waits for its line
// `lft api: listening on http://HOST:PORT` and proxies OpenAI chat-completions bodies to it,
// streaming passed through as it comes.

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { HttpError } from "./http";
import { repoRoot } from "./info";
import { settlesWithin } from "./launcher";

export interface ChatSpec {
  readonly model: string;
  readonly adapter?: string;
  readonly template?: string;
}

interface ChatServer {
  readonly id: string;
  readonly key: string;
  readonly spec: ChatSpec;
  readonly ready: Promise<string>;
  readonly child: ReturnType<typeof Bun.spawn>;
  readonly output: string[];
  /** The name the server answers to, read from its /v1/models on first use. */
  model?: string;
}

export interface ChatOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The command that runs `lft` (default: the repo's `lft` script). */
  readonly lft?: readonly string[];
  /** How long a server may take to print its ready line. */
  readonly startTimeoutMs?: number;
}

/** Model servers running at once: each holds a model in memory. */
export const maxServers = 4;

const readyLine = /lft api: listening on (http:\/\/\S+)/;

export class ChatSessions {
  readonly #servers = new Map<string, ChatServer>();

  constructor(readonly options: ChatOptions) {}

  /** The session for a model (+ adapter, template): started, or the running one reused. */
  async open(spec: ChatSpec): Promise<string> {
    const existing = [...this.#servers.values()].find(
      (s) => s.spec.model === spec.model && s.spec.adapter === spec.adapter && s.spec.template === spec.template && s.child.exitCode === null,
    );
    if (existing === undefined && this.#servers.size >= maxServers)
      throw new HttpError(429, "too_many", `${maxServers} chat models are open; close one (DELETE /api/chat/sessions/:id) before opening another`);
    const server = existing ?? this.#start(spec);
    try {
      await server.ready;
    } catch (cause) {
      this.#servers.delete(server.id);
      server.child.kill();
      throw new HttpError(502, "bad_gateway", cause instanceof Error ? cause.message : String(cause));
    }
    return server.id;
  }

  #start(spec: ChatSpec): ChatServer {
    const id = randomBytes(8).toString("hex");
    const key = randomBytes(24).toString("hex");
    const args = [spec.model, ...(spec.adapter ? ["--adapter", spec.adapter] : []), ...(spec.template ? ["--template", spec.template] : [])];
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.options.env)) if (v !== undefined) env[k] = v;
    const child = Bun.spawn([...(this.options.lft ?? [join(repoRoot, "lft")]), "api", ...args, "--port", "0", "--api-key", key], {
      cwd: this.options.cwd,
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const output: string[] = [];
    const timeoutMs = this.options.startTimeoutMs ?? 120_000;
    const ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lft api did not start within ${timeoutMs / 1000} s: ${output.slice(-5).join(" | ")}`)), timeoutMs);
      const watch = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
        const decoder = new TextDecoder();
        let rest = "";
        for await (const chunk of stream) {
          rest += decoder.decode(chunk, { stream: true });
          const lines = rest.split("\n");
          rest = lines.pop() ?? "";
          for (const line of lines) {
            output.push(line);
            if (output.length > 200) output.shift();
            const m = readyLine.exec(line);
            if (m !== null) {
              clearTimeout(timer);
              resolve(m[1]!.replace(/\/$/, ""));
            }
          }
        }
      };
      void watch(child.stdout);
      void watch(child.stderr);
      void child.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`lft api ${args.join(" ")} exited (status ${code}) before it was ready: ${output.slice(-5).join(" | ")}`));
      });
    });
    ready.catch(() => {});
    const server: ChatServer = { id, key, spec, ready, child, output };
    this.#servers.set(id, server);
    return server;
  }

  /**
   * Forwards a chat-completions request body; the answer (JSON or SSE) streams back unchanged. A body
   * without `model` gets the session's (the first name the server's /v1/models lists): the page
   * chats with the session, not with a model name.
   */
  async complete(id: string, body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
    const server = this.#servers.get(id);
    if (server === undefined) throw new HttpError(404, "not_found", `no chat session "${id}"; open one with POST /api/chat/sessions`);
    const base = await server.ready;
    const headers = { "content-type": "application/json", authorization: `Bearer ${server.key}` };
    let answer: Response;
    try {
      const model = body.model ?? (await this.#modelName(server, base, signal));
      answer = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers, body: JSON.stringify({ ...body, model }), signal });
    } catch (cause) {
      throw new HttpError(502, "bad_gateway", `the model server did not answer: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
    const type = answer.headers.get("content-type") ?? "application/json";
    return new Response(answer.body, {
      status: answer.status,
      headers: { "content-type": type, ...(type.startsWith("text/event-stream") ? { "cache-control": "no-cache" } : {}) },
    });
  }

  async #modelName(server: ChatServer, base: string, signal: AbortSignal): Promise<string> {
    if (server.model !== undefined) return server.model;
    const listed = await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${server.key}` }, signal });
    const first = listed.ok ? ((await listed.json()) as { data?: { id?: unknown }[] }).data?.[0]?.id : undefined;
    server.model = typeof first === "string" ? first : server.spec.model;
    return server.model;
  }

  close(id: string): boolean {
    const server = this.#servers.get(id);
    if (server === undefined) return false;
    this.#servers.delete(id);
    server.child.kill("SIGINT");
    return true;
  }

  async shutdown(graceMs = 3000): Promise<void> {
    const servers = [...this.#servers.values()];
    this.#servers.clear();
    for (const s of servers) s.child.kill("SIGINT");
    if (!(await settlesWithin(Promise.all(servers.map((s) => s.child.exited)), graceMs))) for (const s of servers) s.child.kill("SIGKILL");
  }
}
