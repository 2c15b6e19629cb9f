// `lft board`'s server: Bun.serve on 127.0.0.1 by default, every path but the login link behind the
// access token, request bodies capped, bad input answered with {error: {message, type}}. The routes
// are the board's HTTP contract (docs/notes/h16-board-server.md); each handler's work is in its file.

import { join } from "node:path";
import type { Registry, RunStore } from "../../../core/index.ts";
import { parseSource } from "../../parse";
import { authorized, loginResponse, tokenMatches, unauthorizedPage } from "./auth";
import { ChatSessions } from "./chat";
import { boardFile, checkText } from "./check";
import { buildForm, type FormSection } from "./form";
import { errorResponse, HttpError, json, maxBodyBytes, readJsonObject, stringField } from "./http";
import { findAdapters, findDatasetDirs, findModels } from "./info";
import { Launcher } from "./launcher";
import { planText } from "./plan";
import { previewSamples } from "./preview";
import { FormError, formToRecipe, recipeToForm } from "./recipe-form";
import { findRun, listRuns, logTail, metricsOf, runEvents } from "./runs";
import { buildClient, type StaticFiles } from "./static";

export interface BoardOptions {
  readonly registry: Registry;
  readonly store: RunStore;
  /** LFT_HOME of that store (children launched by the board record there). */
  readonly home: string;
  readonly cwd: string;
  readonly token: string;
  readonly version: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The command that runs `lft` for launched runs and chat servers (tests substitute a fake one for chat). */
  readonly lft?: readonly string[];
  readonly chatLft?: readonly string[];
  /** The client folder to bundle (default dsl/board/client). */
  readonly clientDir?: string;
}

export interface Board {
  readonly url: string;
  readonly launcher: Launcher;
  readonly chats: ChatSessions;
  /** Stops launched runs (SIGINT, a few seconds' grace), chat servers and the server. */
  close(): Promise<void>;
}

type Handler = (req: Request, params: string[]) => Promise<Response> | Response;

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, "invalid_request", `malformed %-escape in the path: ${part}`);
  }
}

export async function startBoard(o: BoardOptions): Promise<Board> {
  const env = o.env ?? process.env;
  const files: StaticFiles = await buildClient(o.clientDir);
  const launcher = new Launcher({ home: o.home, cwd: o.cwd, env, ...(o.lft === undefined ? {} : { lft: o.lft }) });
  const chats = new ChatSessions({ cwd: o.cwd, env, ...((o.chatLft ?? o.lft) === undefined ? {} : { lft: o.chatLft ?? o.lft }) });
  // The registry is complete once the session has loaded its plugins: the form is built once.
  const form = buildForm(o.registry);
  const sections = (): FormSection[] => form.sections;

  const routes: [string, RegExp, Handler][] = [
    [
      "GET",
      /^\/api\/info$/,
      () =>
        json({
          version: o.version,
          store: join(o.home, "runs.sqlite"),
          cwd: o.cwd,
          models: findModels(o.cwd, env),
          adapters: findAdapters(o.cwd),
          datasetDirs: findDatasetDirs(o.cwd),
        }),
    ],
    ["GET", /^\/api\/form$/, () => json({ sections: sections() })],
    [
      "POST",
      /^\/api\/form\/recipe$/,
      async (req) => {
        const body = await readJsonObject(req);
        const values = body.values;
        if (values === null || typeof values !== "object" || Array.isArray(values)) throw new HttpError(400, "invalid_request", '"values" must be an object');
        const extra = stringField(body, "extra", false) ?? "";
        let recipe: string;
        try {
          recipe = formToRecipe(values as Record<string, unknown>, sections(), extra);
        } catch (cause) {
          if (cause instanceof FormError) throw new HttpError(400, "invalid_request", cause.message);
          throw cause;
        }
        return json({ recipe, diagnostics: (await checkText(recipe, o.registry, o.cwd)).diagnostics });
      },
    ],
    [
      "POST",
      /^\/api\/recipe\/form$/,
      async (req) => {
        const recipe = stringField(await readJsonObject(req), "recipe")!;
        const parsed = parseSource(recipe, boardFile);
        const { values, extra } = recipeToForm(recipe, parsed.recipe, sections());
        return json({ values, extra, diagnostics: (await checkText(recipe, o.registry, o.cwd)).diagnostics });
      },
    ],
    [
      "POST",
      /^\/api\/check$/,
      async (req) => json({ diagnostics: (await checkText(stringField(await readJsonObject(req), "recipe")!, o.registry, o.cwd)).diagnostics }),
    ],
    [
      "POST",
      /^\/api\/plan$/,
      async (req) => {
        const body = await readJsonObject(req);
        const answer = await planText(stringField(body, "recipe")!, o.registry, o.cwd, o.home, stringField(body, "device", false));
        return json(answer, "plan" in answer ? 200 : 422);
      },
    ],
    [
      "POST",
      /^\/api\/preview$/,
      async (req) => {
        const body = await readJsonObject(req);
        const count = body.count === undefined ? 3 : body.count;
        if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > 50)
          throw new HttpError(400, "invalid_request", '"count" must be a whole number from 1 to 50');
        return json(await previewSamples(stringField(body, "recipe")!, count, o.registry, o.cwd));
      },
    ],
    ["GET", /^\/api\/runs$/, () => json({ runs: listRuns(o.store, launcher) })],
    [
      "GET",
      /^\/api\/runs\/compare$/,
      (req) => {
        const ids = (new URL(req.url).searchParams.get("ids") ?? "").split(",").filter((s) => s.trim() !== "");
        if (ids.length === 0) throw new HttpError(400, "invalid_request", "name the runs to compare: ?ids=a,b");
        if (ids.length > 20) throw new HttpError(400, "invalid_request", "compare at most 20 runs at once");
        return json({
          runs: ids.map((id) => {
            const found = findRun(id.trim(), o.store, launcher);
            return { run: found.run, metrics: found.runId === undefined ? {} : metricsOf(o.store, found.runId) };
          }),
        });
      },
    ],
    [
      "GET",
      /^\/api\/runs\/([^/]+)$/,
      (_req, [id]) => {
        const found = findRun(id!, o.store, launcher);
        const launch =
          found.launch === undefined
            ? {}
            : { launch: { id: found.launch.id, pid: found.launch.pid, exitCode: found.launch.exitCode, recipe: found.launch.recipePath } };
        return json({ run: found.run, metrics: found.runId === undefined ? {} : metricsOf(o.store, found.runId), log: logTail(o.store, found), ...launch });
      },
    ],
    [
      "GET",
      /^\/api\/runs\/([^/]+)\/events$/,
      (req, [id]) => {
        findRun(id!, o.store, launcher); // 404 before the stream starts
        return new Response(runEvents(id!, o.store, launcher, req.signal), {
          headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
        });
      },
    ],
    [
      "POST",
      /^\/api\/runs$/,
      async (req) => {
        const recipe = stringField(await readJsonObject(req), "recipe")!;
        const checked = await checkText(recipe, o.registry, o.cwd);
        if (checked.ok === undefined) return json({ diagnostics: checked.diagnostics }, 422);
        const launch = launcher.launch(recipe);
        return json({ id: launch.id, pid: launch.pid, diagnostics: checked.diagnostics }, 201);
      },
    ],
    [
      "POST",
      /^\/api\/runs\/([^/]+)\/stop$/,
      (_req, [id]) => {
        const found = findRun(id!, o.store, launcher);
        if (found.launch === undefined)
          throw new HttpError(409, "invalid_request", `run ${found.run.id} was not launched by this board; stop it where it runs (Ctrl-C)`);
        if (!launcher.stop(found.launch.id)) throw new HttpError(409, "invalid_request", `run ${found.run.id} has already ended`);
        return json({ ok: true });
      },
    ],
    [
      "POST",
      /^\/api\/chat\/sessions$/,
      async (req) => {
        const body = await readJsonObject(req);
        const model = stringField(body, "model")!;
        if (model.trim() === "") throw new HttpError(400, "invalid_request", '"model" must name a model folder');
        const adapter = stringField(body, "adapter", false);
        const template = stringField(body, "template", false);
        const session = await chats.open({ model, ...(adapter ? { adapter } : {}), ...(template ? { template } : {}) });
        return json({ session });
      },
    ],
    ["POST", /^\/api\/chat\/sessions\/([^/]+)\/completions$/, async (req, [id]) => chats.complete(id!, await readJsonObject(req), req.signal)],
    [
      "DELETE",
      /^\/api\/chat\/sessions\/([^/]+)$/,
      (_req, [id]) => {
        if (!chats.close(id!)) throw new HttpError(404, "not_found", `no chat session "${id}"`);
        return json({ ok: true });
      },
    ],
  ];

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === "/" && url.searchParams.has("token")) {
      if (tokenMatches(url.searchParams.get("token"), o.token)) return loginResponse(o.token);
      return new Response(unauthorizedPage, { status: 401, headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (!authorized(req, o.token)) {
      if (path.startsWith("/api/"))
        return errorResponse(401, "unauthorized", "this board needs its access token: open the link lft board printed, or send Authorization: Bearer <token>");
      return new Response(unauthorizedPage, { status: 401, headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (req.method === "GET" && (path === "/" || path === "/index.html"))
      return new Response(files.html, { headers: { "content-type": "text/html; charset=utf-8" } });
    if (req.method === "GET" && path === "/app.js") return new Response(files.js, { headers: { "content-type": "text/javascript; charset=utf-8" } });
    if (req.method === "GET" && path === "/app.css") return new Response(files.css, { headers: { "content-type": "text/css; charset=utf-8" } });
    let allowed: string[] = [];
    for (const [method, pattern, handler] of routes) {
      const m = pattern.exec(path);
      if (m === null) continue;
      if (method !== req.method) {
        allowed.push(method);
        continue;
      }
      return await handler(req, m.slice(1).map(decodePart));
    }
    allowed = [...new Set(allowed)];
    if (allowed.length > 0) return errorResponse(405, "invalid_request", `${req.method} ${path} is not served; use ${allowed.join(" or ")}`);
    return errorResponse(404, "not_found", `no such page or API: ${path}`);
  }

  const server = Bun.serve({
    hostname: o.host ?? "127.0.0.1",
    port: o.port ?? 0,
    // Bun's own cap answers 413 with no body; the handlers refuse over maxBodyBytes with an error
    // object (by Content-Length, before reading), so Bun's is only the outer bound.
    maxRequestBodySize: 16 * maxBodyBytes,
    // Bun's longest: opening a chat loads a model and a non-streamed answer may take long to generate
    // (run events send a keep-alive comment every few seconds anyway).
    idleTimeout: 255,
    async fetch(req) {
      try {
        return await handle(req);
      } catch (cause) {
        if (cause instanceof HttpError) return cause.toResponse();
        return errorResponse(
          500,
          "server_error",
          `the board failed on ${new URL(req.url).pathname}: ${cause instanceof Error ? cause.message : String(cause)}`,
        );
      }
    },
    error(cause) {
      return errorResponse(500, "server_error", cause.message);
    },
  });
  const shownHost = server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname;
  return {
    url: `http://${shownHost}:${server.port}`,
    launcher,
    chats,
    async close() {
      await Promise.all([launcher.shutdown(), chats.shutdown()]);
      server.stop(true);
    },
  };
}
