// `lft api MODEL_DIR [--adapter DIR] [--template T] ...`: serves a model folder (and an adapter) over an
// OpenAI-compatible HTTP API until Ctrl-C. The model loads as `lft chat` loads it (the runner's
// openServedModel); the key comes from --api-key, else LFT_API_KEY, else a fresh one printed at start.
// Once serving it prints exactly one line `lft api: listening on http://HOST:PORT` (the board waits for it).
import { randomBytes } from "node:crypto";
import type { CommandEntry, CommandIO } from "../../core/index.ts";
import { ExitCode, parseArgs } from "../../core/index.ts";
import { openServedModel } from "../runner/index.ts";
import { type ApiServer, DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, startApiServer } from "./server.ts";

const usage = "MODEL_DIR [--adapter DIR] [--template T] [--host H] [--port N] [--api-key K] [--device cpu|cuda|auto] [--max-body BYTES] [--max-batch N]";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

function usageError(io: CommandIO, message: string): number {
  io.stderr(`lft api: ${message}\nusage: lft api ${usage}\n`);
  return ExitCode.usage;
}

function integerIn(raw: string | undefined, name: string, lo: number, hi: number, fallback: number): number | string {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  return Number.isInteger(v) && v >= lo && v <= hi ? v : `${name} must be an integer in [${lo}, ${hi}], got "${raw}"`;
}

/** Resolves on the first SIGINT or SIGTERM: the server's end. */
function untilSignalled(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(signal);
    };
    const onInt = stop("SIGINT");
    const onTerm = stop("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
  });
}

export const apiCommand: CommandEntry = {
  name: "api",
  doc: "serve a model folder (and an adapter) over an OpenAI-compatible API: /v1/chat/completions, /v1/models",
  usage,
  scope: "cli",
  async run(argv, io, session) {
    const parsed = parseArgs(argv, {
      positional: [1, 1],
      values: ["--adapter", "--template", "--host", "--port", "--api-key", "--device", "--max-body", "--max-batch"],
    });
    if (parsed.isErr()) return usageError(io, parsed.error);
    const args = parsed.value;
    if (args.flags.has("--help")) {
      io.stdout(`usage: lft api ${usage}\n`);
      return ExitCode.ok;
    }
    const pick = (k: string) => args.values.get(k);
    const port = integerIn(pick("--port"), "--port", 0, 65535, 8000);
    if (typeof port === "string") return usageError(io, port);
    const maxBody = integerIn(pick("--max-body"), "--max-body", 1024, 1 << 30, DEFAULT_MAX_BODY_BYTES);
    if (typeof maxBody === "string") return usageError(io, maxBody);
    const maxBatch = integerIn(pick("--max-batch"), "--max-batch", 1, 256, DEFAULT_MAX_BATCH);
    if (typeof maxBatch === "string") return usageError(io, maxBatch);
    const host = pick("--host") ?? "127.0.0.1";
    // An empty LFT_API_KEY counts as unset; an empty --api-key is a mistake.
    const givenKey = pick("--api-key") ?? (process.env.LFT_API_KEY || undefined);
    if (givenKey !== undefined && givenKey.trim() === "") return usageError(io, "--api-key is empty");

    const model = openServedModel(
      {
        path: args.positional[0]!,
        ...(pick("--adapter") !== undefined && { adapter: pick("--adapter")! }),
        ...(pick("--template") !== undefined && { template: pick("--template")! }),
        ...(pick("--device") !== undefined && { device: pick("--device")! }),
      },
      session.registry,
      io,
    );
    if (model.isErr()) {
      io.stderr(`lft api: ${model.error}\n`);
      return ExitCode.runFailed;
    }
    const apiKey = givenKey ?? `lft-${randomBytes(24).toString("base64url")}`;
    let server: ApiServer;
    try {
      server = startApiServer(model.value, { host, port, apiKey, maxBodyBytes: maxBody, maxBatch });
    } catch (e) {
      model.value.close();
      io.stderr(`lft api: cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}\n`);
      return ExitCode.runFailed;
    }
    if (!LOOPBACK.has(host)) io.stderr(`warning: lft api listens on ${host}, reachable from other machines; anyone with the API key can use the model\n`);
    io.stdout(`lft api: model "${model.value.id}" (${model.value.describe}, context ${model.value.contextLength} tokens)\n`);
    io.stdout(
      givenKey === undefined ? `lft api: API key ${apiKey} (send it as "Authorization: Bearer KEY")\n` : "lft api: API key from --api-key / LFT_API_KEY\n",
    );
    io.stdout(`lft api: listening on ${server.url}\n`);
    const signal = await untilSignalled();
    io.stdout(`lft api: ${signal}, stopping\n`);
    await server.stop();
    model.value.close();
    return ExitCode.ok;
  },
};
