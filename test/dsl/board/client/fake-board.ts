// A stand-in for the board server that speaks its HTTP contract (the board section of the notes) with
// in-memory state, so the client's pages can be driven in a browser without training anything: a
// launched run emits one loss point per tick, chat answers stream word by word.

import { repoRoot } from "../../helpers.ts";

type Metric = [number, number];
interface FakeRun {
  id: string;
  status: string;
  step: number;
  recipe: string;
  metrics: Record<string, Metric[]>;
  log: string[];
  timer?: ReturnType<typeof setInterval>;
}

const client = `${repoRoot}/dsl/board/client`;
export const FAKE_TOKEN = "fake-token";

interface Field {
  readonly key: string;
  readonly label: string;
  readonly kind: string;
  readonly default?: unknown;
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly units?: readonly string[];
}
interface Section {
  readonly id: string;
  readonly title: string;
  readonly fields: readonly Field[];
  readonly variants?: Record<string, readonly Field[]>;
}

const sections: readonly Section[] = [
  {
    id: "model",
    title: "Model",
    fields: [
      { key: "source", label: "model directory", kind: "path" },
      { key: "template", label: "template", kind: "enum", choices: ["default", "alpaca"] },
      { key: "adapter", label: "adapter", kind: "path" },
    ],
  },
  {
    id: "dataset",
    title: "Dataset",
    fields: [
      { key: "enabled", label: "enabled", kind: "boolean", default: true },
      { key: "source", label: "dataset file", kind: "path" },
    ],
  },
  {
    id: "method",
    title: "Method",
    fields: [
      { key: "enabled", label: "enabled", kind: "boolean", default: true },
      { key: "name", label: "method", kind: "enum", choices: ["full", "lora"] },
    ],
    variants: { full: [], lora: [{ key: "rank", label: "rank", kind: "integer", default: 8, min: 1 }] },
  },
  {
    id: "train",
    title: "Train",
    fields: [
      { key: "enabled", label: "enabled", kind: "boolean", default: true },
      { key: "name", label: "stage", kind: "enum", choices: ["sft", "pt"] },
      { key: "lr", label: "lr", kind: "number", default: 5e-5, min: 0 },
      { key: "warmup", label: "warmup", kind: "number", default: 0, units: ["steps", "%"] },
    ],
  },
  {
    id: "export",
    title: "Export",
    fields: [
      { key: "enabled", label: "enabled", kind: "boolean", default: false },
      { key: "source", label: "output directory", kind: "path" },
      { key: "merge", label: "merge", kind: "boolean", default: false },
    ],
  },
];

/** One `block [name] ["source"] { key = value }` per section, in section order. */
function recipeOf(values: Record<string, unknown>): string {
  const blocks: string[] = [];
  for (const s of sections) {
    const enabled = values[`${s.id}.enabled`] ?? s.fields.find((f) => f.key === "enabled")?.default ?? true;
    if (!enabled) continue;
    const own = Object.entries(values).filter(([k]) => k.startsWith(`${s.id}.`) && !/\.(enabled|name|source)$/.test(k));
    const head = [s.id, values[`${s.id}.name`], values[`${s.id}.source`] === undefined ? undefined : `"${values[`${s.id}.source`]}"`].filter(Boolean).join(" ");
    const body = own.map(([k, v]) => `  ${k.slice(s.id.length + 1)} = ${Array.isArray(v) ? `[${v.join(", ")}]` : v}`);
    blocks.push(body.length ? `${head} {\n${body.join("\n")}\n}` : head);
  }
  return `${blocks.join("\n")}\n`;
}

/** Reads back what recipeOf writes; other lines are returned as `extra`. */
function formOf(recipe: string): { values: Record<string, unknown>; extra: string } {
  const values: Record<string, unknown> = {};
  const extra: string[] = [];
  let block = "";
  for (const line of recipe.split("\n")) {
    const head = /^(\w+)(?: (\w+))?(?: "([^"]*)")?\s*\{?$/.exec(line.trim());
    const entry = /^(\w+) = (.+)$/.exec(line.trim());
    if (head && sections.some((s) => s.id === head[1])) {
      block = head[1]!;
      if (head[2]) values[`${block}.name`] = head[2];
      if (head[3] !== undefined) values[`${block}.source`] = head[3];
      if (block !== "model") values[`${block}.enabled`] = true;
    } else if (entry && block) values[`${block}.${entry[1]}`] = entry[2];
    else if (line.trim() === "}") block = "";
    else if (line.trim() !== "") extra.push(line);
  }
  return { values, extra: extra.join("\n") };
}

/** Errors at a line for a negative number, like lft check's range check. */
function check(recipe: string) {
  return recipe.split("\n").flatMap((line, i) => {
    const m = /^\s*(\w+) = (-[\d.e-]+)/.exec(line);
    return m ? [{ severity: "error", message: `${m[1]} must be at least 0, got ${m[2]}`, line: i + 1, column: line.indexOf(m[2]!) + 1 }] : [];
  });
}

export interface FakeBoard {
  readonly url: string;
  readonly runs: Map<string, FakeRun>;
  stop(): void;
}

export async function startFakeBoard(): Promise<FakeBoard> {
  const build = await Bun.build({ entrypoints: [`${client}/main.ts`], target: "browser" });
  if (!build.success) throw new Error(build.logs.join("\n"));
  const bundle = await build.outputs[0]!.text();
  const runs = new Map<string, FakeRun>();
  let counter = 0;

  function tick(run: FakeRun): void {
    run.step += 1;
    const loss = 3 / (1 + run.step * 0.2);
    run.metrics.loss = [...(run.metrics.loss ?? []), [run.step, loss]];
    run.metrics.lr = [...(run.metrics.lr ?? []), [run.step, 1e-3 * Math.min(1, run.step / 3)]];
    run.log.push(`step ${run.step}: loss ${loss.toFixed(4)}`);
    if (run.step >= 40) end(run, "completed");
  }
  function end(run: FakeRun, status: string): void {
    clearInterval(run.timer);
    run.status = status;
  }

  const json = (body: unknown, status = 200) => Response.json(body, { status });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(req) {
      const url = new URL(req.url);
      const path = url.pathname;
      if (path === "/" && url.searchParams.get("token") === FAKE_TOKEN)
        return new Response(null, { status: 302, headers: { location: "/", "set-cookie": `lft_board=${FAKE_TOKEN}; HttpOnly; SameSite=Strict; Path=/` } });
      if (!(req.headers.get("cookie") ?? "").includes(`lft_board=${FAKE_TOKEN}`))
        return json({ error: { message: "open the link lft board printed", type: "unauthorized" } }, 401);
      if (path === "/") return new Response(Bun.file(`${client}/index.html`));
      if (path === "/app.js") return new Response(bundle, { headers: { "content-type": "text/javascript" } });
      if (path === "/app.css") return new Response(Bun.file(`${client}/app.css`));
      if (path === "/api/info")
        return json({ version: "0.1.0", store: "/tmp/fake/runs.sqlite", cwd: "/tmp/fake", models: ["models/tiny"], datasetDirs: ["data"] });
      if (path === "/api/form") return json({ sections });
      const raw = req.method === "POST" ? await req.text() : "";
      const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
      if (path === "/api/form/recipe") {
        const recipe = recipeOf(body.values as Record<string, unknown>) + (typeof body.extra === "string" && body.extra ? `${body.extra}\n` : "");
        return json({ recipe, diagnostics: check(recipe) });
      }
      if (path === "/api/recipe/form") return json({ ...formOf(String(body.recipe)), diagnostics: check(String(body.recipe)) });
      if (path === "/api/check") return json({ diagnostics: check(String(body.recipe)) });
      if (path === "/api/preview") return json({ samples: [{ text: "Q: hi\nA: hello", prompt: "Q: hi\nA:", response: " hello", tokens: 7 }] });
      if (path === "/api/runs" && req.method === "POST") {
        const recipe = String(body.recipe);
        if (check(recipe).length) return json({ diagnostics: check(recipe) }, 422);
        const run: FakeRun = { id: `run-${++counter}`, status: "running", step: 0, recipe, metrics: {}, log: ["started"] };
        run.timer = setInterval(() => tick(run), 150);
        runs.set(run.id, run);
        return json({ id: run.id, pid: 4242 }, 201);
      }
      const record = (r: FakeRun) => ({
        id: r.id,
        name: r.id,
        recipe: r.recipe,
        status: r.status,
        startedAt: Date.now(),
        endedAt: null,
        step: r.step,
        totalSteps: 40,
        pid: 4242,
        error: null,
      });
      if (path === "/api/runs") return json({ runs: [...runs.values()].map(record) });
      if (path === "/api/runs/compare") {
        const ids = (url.searchParams.get("ids") ?? "").split(",");
        return json({ runs: ids.flatMap((id) => (runs.has(id) ? [{ run: record(runs.get(id)!), metrics: runs.get(id)!.metrics }] : [])) });
      }
      const runPath = /^\/api\/runs\/([^/]+)(\/events|\/stop)?$/.exec(path);
      const run = runPath ? runs.get(decodeURIComponent(runPath[1]!)) : undefined;
      if (runPath && !run) return json({ error: { message: "no such run", type: "not_found" } }, 404);
      if (run && runPath?.[2] === "/stop") {
        end(run, "interrupted");
        return json({ ok: true });
      }
      if (run && runPath?.[2] === "/events") {
        let sent = run.step;
        const encoder = new TextEncoder();
        let timer: ReturnType<typeof setInterval> | undefined;
        const stream = new ReadableStream<Uint8Array>({
          cancel: () => clearInterval(timer),
          start(controller) {
            timer = setInterval(() => {
              for (; sent < run.step; sent++)
                for (const [name, points] of Object.entries(run.metrics)) {
                  const [step, value] = points[sent]!;
                  controller.enqueue(encoder.encode(`event: metric\ndata: ${JSON.stringify({ step, name, value })}\n\n`));
                }
              controller.enqueue(encoder.encode(`event: status\ndata: ${JSON.stringify({ status: run.status, step: run.step })}\n\n`));
              if (run.status !== "running") {
                clearInterval(timer);
                controller.close();
              }
            }, 100);
          },
        });
        return new Response(stream, { headers: { "content-type": "text/event-stream" } });
      }
      if (run) return json({ run: record(run), metrics: run.metrics, log: run.log });
      if (path === "/api/chat/sessions" && req.method === "POST") return json({ session: "s1" });
      if (path.startsWith("/api/chat/sessions/") && req.method === "DELETE") return json({ ok: true });
      if (path === "/api/chat/sessions/s1/completions") {
        const last = (body.messages as { content: string }[]).at(-1)!.content;
        const words = `You said: ${last}`.split(" ");
        const stream = new ReadableStream<Uint8Array>({
          async start(controller) {
            for (const [i, w] of words.entries()) {
              controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: i ? ` ${w}` : w } }] })}\n\n`));
              await Bun.sleep(30);
            }
            controller.enqueue(new TextEncoder().encode("data: [DONE]\n\n"));
            controller.close();
          },
        });
        return new Response(stream, { headers: { "content-type": "text/event-stream" } });
      }
      return json({ error: { message: `no route ${req.method} ${path}`, type: "not_found" } }, 404);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/?token=${FAKE_TOKEN}`,
    runs,
    stop() {
      for (const r of runs.values()) clearInterval(r.timer);
      server.stop(true);
    },
  };
}
