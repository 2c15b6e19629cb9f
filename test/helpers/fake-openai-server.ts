// A stand-in for `lft api` in the board's chat-proxy tests: `bun fake-openai-server.ts api MODEL
// [--adapter DIR] --port 0 --api-key K` prints `lft api: listening on http://HOST:PORT` and answers
// /v1/models and /v1/chat/completions (JSON, or SSE chunks when stream is true) by echoing the last
// user message with the model folder's name; like lft api it refuses requests without the key and
// chat requests without the model name /v1/models lists.

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const model = argv[1] ?? "?";
const adapter = flag("--adapter");
const key = flag("--api-key") ?? "";
const name = `${model}${adapter === undefined ? "" : `+${adapter}`}`;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(flag("--port") ?? "0"),
  async fetch(req) {
    if (req.headers.get("authorization") !== `Bearer ${key}`) return Response.json({ error: { message: "bad key", type: "invalid_api_key" } }, { status: 401 });
    if (new URL(req.url).pathname === "/v1/models") return Response.json({ object: "list", data: [{ id: name, object: "model" }] });
    const body = (await req.json()) as { model?: string; messages: { role: string; content: string }[]; stream?: boolean };
    if (body.model !== name) return Response.json({ error: { message: `model must be ${name}`, type: "invalid_request_error" } }, { status: 400 });
    const last = body.messages.at(-1)?.content ?? "";
    const answer = `echo from ${name}: ${last}`;
    if (body.stream !== true)
      return Response.json({
        id: "c1",
        object: "chat.completion",
        model: name,
        choices: [{ index: 0, message: { role: "assistant", content: answer }, finish_reason: "stop" }],
      });
    const words = answer.split(" ");
    const chunks = words.map(
      (w, i) =>
        `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: i === 0 ? w : ` ${w}` } }] })}\n\n`,
    );
    return new Response([...chunks, "data: [DONE]\n\n"].join(""), { headers: { "content-type": "text/event-stream" } });
  },
});
console.log(`lft api: listening on http://127.0.0.1:${server.port}`);
process.on("SIGINT", () => {
  server.stop(true);
  process.exit(0);
});
