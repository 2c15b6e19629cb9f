// The board's server over real HTTP: auth (bearer and the cookie link), body cap, error objects, the
// form generated from the registry, recipe <-> form round trips on the examples, located check
// diagnostics, a tiny run launched and followed over SSE to its end, a longer run stopped (status
// interrupted, a checkpoint), compare, the data preview, and the chat proxy (to a fake `lft api`).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunStore } from "../../../core/index.ts";
import { type Board, startBoard } from "../../../dsl/board/server/server.ts";
import { lftPlugin } from "../../../dsl/commands/index.ts";
import { checkSource } from "../../../dsl/pipeline.ts";
import { openSession, type Session } from "../../../dsl/session.ts";
import { captureIO, repoRoot } from "../helpers.ts";

const work = mkdtempSync(join(tmpdir(), "lft-board-"));
const token = "t0k3n-for-tests";
const model = join(repoRoot, "examples", "models", "stories260K");
const identity = join(repoRoot, "examples", "data", "identity.json");
let board: Board;
let session: Session;
let store: RunStore;

beforeAll(async () => {
  session = (await openSession({ mode: "cli", io: captureIO(work), core: lftPlugin, projectPlugins: false })).session;
  store = RunStore.open(join(work, "runs.sqlite"))._unsafeUnwrap();
  board = await startBoard({
    registry: session.registry,
    store,
    home: work,
    cwd: work,
    token,
    version: "test",
    env: { ...process.env, CI: "true" },
    chatLft: [process.execPath, join(repoRoot, "test", "helpers", "fake-openai-server.ts")],
  });
});

afterAll(async () => {
  await board.close();
  store.close();
  rmSync(work, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${token}` };
const get = (path: string): Promise<Response> => fetch(`${board.url}${path}`, { headers: auth });
const post = (path: string, body: unknown): Promise<Response> =>
  fetch(`${board.url}${path}`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

function tinyRecipe(steps: number, out: string, extra = ""): string {
  return `model llama "${model}" { template = default }
dataset alpaca "${identity}"
method lora
train sft for ${steps} steps { lr = 5e-3, log_every = 1, output = "${join(work, out)}"${extra} }
`;
}

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

async function readEvents(id: string, onEvent?: (e: SseEvent) => Promise<void> | void): Promise<SseEvent[]> {
  const res = await get(`/api/runs/${id}/events`);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body!) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) {
        const e = { event, data: JSON.parse(data) as Record<string, unknown> };
        events.push(e);
        await onEvent?.(e);
      }
      end = buffer.indexOf("\n\n");
    }
  }
  return events;
}

test("without the token every API answers 401 with an error object, pages a hint", async () => {
  const api = await fetch(`${board.url}/api/info`);
  expect(api.status).toBe(401);
  expect(((await api.json()) as { error: { type: string } }).error.type).toBe("unauthorized");
  const page = await fetch(`${board.url}/`);
  expect(page.status).toBe(401);
  expect(await page.text()).toContain("open the link printed by");
  const wrong = await fetch(`${board.url}/api/info`, { headers: { authorization: "Bearer nope" } });
  expect(wrong.status).toBe(401);
  const wrongLink = await fetch(`${board.url}/?token=nope`, { redirect: "manual" });
  expect(wrongLink.status).toBe(401);
});

test("the printed link sets an HttpOnly SameSite cookie that then opens every page", async () => {
  const login = await fetch(`${board.url}/?token=${token}`, { redirect: "manual" });
  expect(login.status).toBe(302);
  expect(login.headers.get("location")).toBe("/");
  const cookie = login.headers.get("set-cookie") ?? "";
  expect(cookie).toContain("HttpOnly");
  expect(cookie).toContain("SameSite=Strict");
  const pair = cookie.split(";")[0]!;
  const page = await fetch(`${board.url}/`, { headers: { cookie: pair } });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("/app.js");
  const js = await fetch(`${board.url}/app.js`, { headers: { cookie: pair } });
  expect(js.status).toBe(200);
  expect(js.headers.get("content-type")).toContain("javascript");
  const info = (await (await fetch(`${board.url}/api/info`, { headers: { cookie: pair } })).json()) as { store: string; models: string[] };
  expect(info.store).toBe(join(work, "runs.sqlite"));
  expect(info.models.some((m) => m.endsWith("stories260K"))).toBe(true);
});

test("bad requests get error objects: malformed JSON 400, over 1 MiB 413, unknown route 404, wrong method 405", async () => {
  const bad = await post("/api/check", "{recipe: nope");
  expect(bad.status).toBe(400);
  const badBody = (await bad.json()) as { error: { message: string; type: string } };
  expect(badBody.error.type).toBe("invalid_request");
  expect(badBody.error.message).toContain("not valid JSON");
  const missing = await post("/api/check", { recipe: 42 });
  expect(missing.status).toBe(400);
  expect(((await missing.json()) as { error: { message: string } }).error.message).toContain('"recipe" must be a string');
  const big = await post("/api/check", { recipe: "#".repeat(2 * 1024 * 1024) });
  expect(big.status).toBe(413);
  expect(((await big.json()) as { error: { type: string } }).error.type).toBe("too_large");
  const none = await get("/api/nothing-here");
  expect(none.status).toBe(404);
  expect(((await none.json()) as { error: { type: string } }).error.type).toBe("not_found");
  const method = await fetch(`${board.url}/api/check`, { headers: auth });
  expect(method.status).toBe(405);
  const noRun = await get("/api/runs/no-such-run");
  expect(noRun.status).toBe(404);
  expect((await get("/api/runs/%E0%A4%A")).status).toBe(400);
  expect((await fetch(`${board.url}/api/info`, { headers: { cookie: "lft_board=%E0%A4%A" } })).status).toBe(401);
});

test("the form holds every registered method, stage, optimizer and format, with their options", async () => {
  const { sections } = (await (await get("/api/form")).json()) as {
    sections: { id: string; fields: { key: string; kind: string; choices?: string[] }[]; variants?: Record<string, { key: string }[]> }[];
  };
  const section = (id: string) => sections.find((s) => s.id === id)!;
  const names = (collection: "methods" | "stages" | "optimizers" | "datasets") => session.registry.list(collection).map((e) => e.name);
  expect(Object.keys(section("method").variants!).sort()).toEqual(names("methods").sort());
  expect(Object.keys(section("train").variants!).sort()).toEqual(names("stages").sort());
  expect(Object.keys(section("optimizer").variants!).sort()).toEqual(names("optimizers").sort());
  expect(Object.keys(section("dataset").variants!).sort()).toEqual(names("datasets").sort());
  expect(
    section("method")
      .fields.find((f) => f.key === "name")!
      .choices!.sort(),
  ).toEqual(names("methods").sort());
  // A plugin's own options arrive as its variant's fields (lora's rank), typed from its schema.
  const lora = session.registry.get("methods", "lora")._unsafeUnwrap();
  expect(section("method").variants!.lora!.map((f) => f.key)).toEqual(Object.keys(lora.options ?? {}));
  const lr = section("train").fields.find((f) => f.key === "lr")!;
  expect(lr.kind).toBe("number");
  expect(section("model").fields.find((f) => f.key === "template")!.choices).toContain("default");
});

/** What a recipe means: its resolved form, the file name aside. */
async function meaning(text: string): Promise<unknown> {
  const checked = await checkSource(text, "x.lft", session.registry, join(repoRoot, "examples"), [], "declare");
  expect(checked.isOk()).toBe(true);
  const { file: _file, ...rest } = checked._unsafeUnwrap().checked.recipe;
  return JSON.parse(JSON.stringify(rest));
}

test("every example survives recipe -> form -> recipe with the same meaning and its comments", async () => {
  const examples = readdirSync(join(repoRoot, "examples")).filter((f) => f.endsWith(".lft"));
  expect(examples.length).toBeGreaterThan(3);
  for (const name of examples) {
    const text = readFileSync(join(repoRoot, "examples", name), "utf8");
    const form = (await (await post("/api/recipe/form", { recipe: text })).json()) as { values: Record<string, unknown>; extra: string };
    expect(form.values["model.source"]).toBeDefined();
    const back = (await (await post("/api/form/recipe", { values: form.values, extra: form.extra })).json()) as { recipe: string };
    expect(await meaning(back.recipe)).toEqual(await meaning(text));
    // Comments stay where they were (the first line of every example is one).
    expect(back.recipe.split("\n")[0]).toBe(text.split("\n")[0]!);
  }
});

test("a form with values only makes a recipe; bad values get lft check's located diagnostics", async () => {
  const values = {
    "model.source": model,
    "model.name": "llama",
    "model.template": "default",
    "dataset.name": "alpaca",
    "dataset.source": identity,
    "method.name": "lora",
    "method.rank": 4,
    "train.name": "sft",
    "train.duration": 3,
    "train.duration_unit": "steps",
    "train.lr": 0.001,
    "train.warmup": "10%",
    "optimizer.name": "sgd",
  };
  const made = (await (await post("/api/form/recipe", { values })).json()) as { recipe: string; diagnostics: unknown[] };
  expect(made.diagnostics).toEqual([]);
  expect(made.recipe).toContain("method lora { rank = 4 }");
  expect(made.recipe).toContain("train sft for 3 steps");
  expect(made.recipe).toContain("optimizer = sgd");
  expect(made.recipe).toContain("warmup = 10%");
  const bad = (await (await post("/api/form/recipe", { values: { ...values, "method.rank": -2, "train.lr": "fast" } })).json()) as {
    recipe: string;
    diagnostics: { severity: string; message: string; line: number; column: number; text: string }[];
  };
  const rank = bad.diagnostics.find((d) => d.message.includes("rank"))!;
  expect(rank.severity).toBe("error");
  expect(bad.recipe.split("\n")[rank.line - 1]!.slice(rank.column - 1)).toStartWith("-2");
  expect(bad.diagnostics.some((d) => d.message.includes("lr"))).toBe(true);
  const unknown = await post("/api/form/recipe", { values: { "nosuch.key": 1 } });
  expect(unknown.status).toBe(400);
  const deep = await post("/api/form/recipe", `{"values": {"method.targets": ${"[".repeat(100000)}${"]".repeat(100000)}}}`);
  expect(deep.status).toBe(400);
  expect(((await deep.json()) as { error: { message: string } }).error.message).toContain("nest at most");
});

test("check reports what lft check reports, located", async () => {
  const recipe = `model llama "${model}"\nmethod lroa\n`;
  const { diagnostics } = (await (await post("/api/check", { recipe })).json()) as {
    diagnostics: { severity: string; message: string; line: number; column: number; text: string }[];
  };
  const d = diagnostics.find((x) => x.message.includes("lroa"))!;
  expect(d).toMatchObject({ severity: "error", line: 2, column: 8 });
  expect(d.message).toContain('did you mean "lora"');
  expect(d.text).toContain("recipe.lft:2:8:");
  const missing = (await (await post("/api/check", { recipe: `model llama "${work}/nope"\n` })).json()) as {
    diagnostics: { message: string; line?: number }[];
  };
  expect(missing.diagnostics.some((x) => x.line === 1)).toBe(true);
});

test("preview shows the templated samples the run would train on", async () => {
  const res = (await (await post("/api/preview", { recipe: tinyRecipe(1, "p"), count: 2 })).json()) as {
    samples: { text: string; prompt: string; response: string; tokens: number }[];
  };
  expect(res.samples.length).toBe(2);
  expect(res.samples[0]!.text).toContain(res.samples[0]!.response.trim().slice(0, 10));
  expect(res.samples[0]!.prompt).toContain("Human:");
  expect(res.samples[0]!.tokens).toBeGreaterThan(5);
});

let finishedId = "";

test("a launched run is an ordinary recipe run; its metrics stream over SSE until it ends", async () => {
  const refused = await post("/api/runs", { recipe: "method lroa\n" });
  expect(refused.status).toBe(422);
  const res = await post("/api/runs", { recipe: tinyRecipe(4, "runs/a") });
  expect(res.status).toBe(201);
  const { id, pid } = (await res.json()) as { id: string; pid: number };
  expect(pid).toBeGreaterThan(0);
  expect(readFileSync(join(work, "board", "recipes", `${id}.lft`), "utf8")).toBe(tinyRecipe(4, "runs/a"));
  const events = await readEvents(id);
  const losses = events.filter((e) => e.event === "metric" && e.data.name === "loss");
  expect(losses.map((e) => e.data.step)).toEqual([1, 2, 3, 4]);
  expect(events.some((e) => e.event === "metric" && e.data.name === "lr")).toBe(true);
  expect(events.some((e) => e.event === "log" && String(e.data.line).includes("step"))).toBe(true);
  const last = events.filter((e) => e.event === "status").at(-1)!;
  expect(last.data.status).toBe("completed");
  finishedId = String(last.data.runId);
  // The same run, as the store (and lft runs) knows it, under both ids.
  const detail = (await (await get(`/api/runs/${id}`)).json()) as {
    run: { id: string; status: string; pid: number };
    metrics: Record<string, [number, number][]>;
  };
  expect(detail.run).toMatchObject({ id: finishedId, status: "completed", pid });
  expect(detail.metrics.loss!.length).toBe(4);
  expect(store.getRun(finishedId)._unsafeUnwrap().status).toBe("completed");
  expect(existsSync(join(work, "runs", "a", "adapter_config.json"))).toBe(true);
  // The Chat page offers the adapter the run wrote.
  expect(((await (await get("/api/info")).json()) as { adapters: string[] }).adapters).toEqual(["runs/a"]);
  const list = (await (await get("/api/runs")).json()) as { runs: { id: string }[] };
  expect(list.runs.some((r) => r.id === finishedId)).toBe(true);
}, 60_000);

test("stop sends the graceful stop: the run ends interrupted with a checkpoint; compare shows both runs", async () => {
  const { id } = (await (await post("/api/runs", { recipe: tinyRecipe(100000, "long") })).json()) as { id: string };
  let stopped = false;
  const events = await readEvents(id, async (e) => {
    if (!stopped && e.event === "metric" && e.data.name === "loss" && Number(e.data.step) >= 2) {
      stopped = true;
      const stop = await post(`/api/runs/${id}/stop`, {});
      expect(stop.status).toBe(200);
      expect(await stop.json()).toEqual({ ok: true });
    }
  });
  expect(stopped).toBe(true);
  const last = events.filter((e) => e.event === "status").at(-1)!;
  expect(last.data.status).toBe("interrupted");
  const checkpoints = readdirSync(join(work, "long")).filter((d) => d.startsWith("checkpoint-"));
  expect(checkpoints.length).toBe(1);
  const again = await post(`/api/runs/${id}/stop`, {});
  expect(again.status).toBe(409);
  const compare = (await (await get(`/api/runs/compare?ids=${finishedId},${last.data.runId}`)).json()) as {
    runs: { run: { id: string; status: string }; metrics: Record<string, unknown[]> }[];
  };
  expect(compare.runs.map((r) => r.run.status)).toEqual(["completed", "interrupted"]);
  expect(compare.runs.every((r) => (r.metrics.loss?.length ?? 0) >= 2)).toBe(true);
}, 60_000);

test("chat sessions start a model server once per model and proxy completions, streaming too", async () => {
  const open = (await (await post("/api/chat/sessions", { model: "some/model" })).json()) as { session: string };
  const again = (await (await post("/api/chat/sessions", { model: "some/model" })).json()) as { session: string };
  expect(again.session).toBe(open.session);
  const other = (await (await post("/api/chat/sessions", { model: "some/model", adapter: "runs/a" })).json()) as { session: string };
  expect(other.session).not.toBe(open.session);
  const answer = (await (await post(`/api/chat/sessions/${open.session}/completions`, { messages: [{ role: "user", content: "hi" }] })).json()) as {
    choices: { message: { content: string } }[];
  };
  expect(answer.choices[0]!.message.content).toBe("echo from some/model: hi");
  const streamed = await post(`/api/chat/sessions/${other.session}/completions`, { messages: [{ role: "user", content: "hello there" }], stream: true });
  expect(streamed.headers.get("content-type")).toContain("text/event-stream");
  const text = await streamed.text();
  const pieces = text
    .split("\n\n")
    .filter((b) => b.startsWith("data: {"))
    .map((b) => (JSON.parse(b.slice(6)) as { choices: { delta: { content: string } }[] }).choices[0]!.delta.content);
  expect(pieces.join("")).toBe("echo from some/model+runs/a: hello there");
  expect(text).toContain("data: [DONE]");
  const malformed = await post(`/api/chat/sessions/${open.session}/completions`, "{not json");
  expect(malformed.status).toBe(400);
  expect((await fetch(`${board.url}/api/chat/sessions/${open.session}`, { method: "DELETE", headers: auth })).status).toBe(200);
  expect((await post(`/api/chat/sessions/${open.session}/completions`, { messages: [] })).status).toBe(404);
  // Each server holds a model: a fifth at once is refused until one is closed.
  for (const m of ["m2", "m3", "m4"]) expect((await post("/api/chat/sessions", { model: m })).status).toBe(200);
  const fifth = await post("/api/chat/sessions", { model: "m5" });
  expect(fifth.status).toBe(429);
  expect(((await fifth.json()) as { error: { message: string } }).error.message).toContain("close one");
}, 30_000);

test("a launch whose process fails before recording a run ends as failed, with its output", async () => {
  const failing = await startBoard({
    registry: session.registry,
    store,
    home: work,
    cwd: work,
    token,
    version: "test",
    lft: ["sh", "-c", "echo 'cannot start: out of luck' >&2; exit 3", "lft"],
  });
  try {
    const res = await fetch(`${failing.url}/api/runs`, { method: "POST", headers: auth, body: JSON.stringify({ recipe: tinyRecipe(1, "f") }) });
    const { id } = (await res.json()) as { id: string };
    const events = await (async () => {
      const stream = await fetch(`${failing.url}/api/runs/${id}/events`, { headers: auth });
      return stream.text();
    })();
    expect(events).toContain("cannot start: out of luck");
    expect(events).toMatch(/event: status\ndata: \{"status":"failed"/);
    const detail = (await (await fetch(`${failing.url}/api/runs/${id}`, { headers: auth })).json()) as { run: { status: string; error: string } };
    expect(detail.run.status).toBe("failed");
    expect(detail.run.error).toContain("status 3");
  } finally {
    await failing.close();
  }
}, 30_000);

test("broken recipes never crash the form or the check: 200 with located diagnostics", async () => {
  const broken = [
    "",
    "}}}{{",
    "model",
    'train sft for { lr = }\nmodel llama "x"',
    `method lora { targets = ${"[".repeat(100)} }`,
    "let = 3\n\u0000\u00ff",
    'model llama "a" { template = "\\q" }',
  ];
  for (const recipe of broken) {
    for (const path of ["/api/recipe/form", "/api/check"]) {
      const res = await post(path, { recipe });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { diagnostics: { severity: string }[]; extra?: string; values?: Record<string, unknown> };
      if (recipe !== "") expect(body.diagnostics.some((d) => d.severity === "error")).toBe(true);
      if (path === "/api/recipe/form") {
        const back = await post("/api/form/recipe", { values: body.values, extra: body.extra });
        expect(back.status).toBe(200);
      }
    }
  }
});
