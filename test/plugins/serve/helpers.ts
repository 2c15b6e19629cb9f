// What the lft api tests share: the built-in registry, stories260K opened as `lft api` opens it (template
// default, which has LLaMA-Factory's default tool format), a server on loopback and an openai client.
import { join } from "node:path";
import OpenAI from "openai";
import { type CommandIO, createRegistry } from "../../../core/index.ts";
import { builtinPlugins } from "../../../plugins/index.ts";
import { openServedModel, type ServedModel } from "../../../plugins/runner/index.ts";
import { type ApiServer, startApiServer } from "../../../plugins/serve/index.ts";

export const repo = join(import.meta.dir, "..", "..", "..");
export const MODEL_DIR = join(repo, "examples/models/stories260K");
export const KEY = "test-key-123";

export const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();

export const quietIO: CommandIO = { stdout: () => {}, stderr: () => {}, cwd: repo };

export function openStories(): ServedModel {
  return openServedModel({ path: MODEL_DIR, template: "default", device: "cpu" }, registry, quietIO)._unsafeUnwrap();
}

export function serve(model: ServedModel, options: { maxBodyBytes?: number; maxBatch?: number } = {}): ApiServer {
  return startApiServer(model, { apiKey: KEY, port: 0, ...options });
}

export function client(server: ApiServer, apiKey = KEY): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0, timeout: 30_000 });
}

/** The error a request fails with (the openai client's APIError), or null when it succeeded. */
export async function rejection(p: PromiseLike<unknown>): Promise<{ status?: number; param?: string | null; code?: string | null; type?: string } | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return e as { status?: number };
  }
}
