// `lft board [--host H] [--port N] [--store DIR]`: the web board (train form, runs with live curves,
// chat, evaluate, export) on 127.0.0.1 with a random access token; prints one line, the link to open.
// Ctrl-C stops it, and the runs it launched get SIGINT (their graceful stop) and a few seconds to end.

import { join, resolve } from "node:path";
import { type CommandEntry, lftHome, RunStore } from "../../core/index.ts";
import { newToken } from "../board/server/auth";
import { startBoard } from "../board/server/server";
import { ExitCode } from "../exit-codes";
import { argsOrUsage } from "./common";

const usage = "[--host HOST] [--port N] [--store DIR]";
const loopback = new Set(["127.0.0.1", "localhost", "::1"]);

export const boardCommand: CommandEntry = {
  name: "board",
  doc: "open the web board: build and launch recipes, watch runs live, chat, evaluate, export (127.0.0.1, token-protected)",
  usage,
  scope: "cli",
  async run(argv, io, session) {
    const args = argsOrUsage("board", usage, argv, { positional: [0, 0], values: ["--host", "--port", "--store"] }, io);
    if (typeof args === "number") return args;
    const host = args.values.get("--host") ?? "127.0.0.1";
    const portText = args.values.get("--port") ?? "7860";
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65535) {
      io.stderr(`lft board: --port must be a port number from 0 to 65535 (0 picks a free one), not "${portText}"\n`);
      return ExitCode.usage;
    }
    const given = args.values.get("--store");
    const home = given === undefined ? lftHome(process.env, io.cwd) : resolve(io.cwd, given);
    const store = RunStore.open(join(home, "runs.sqlite"));
    if (store.isErr()) {
      io.stderr(`lft board: ${store.error.message}\n`);
      return ExitCode.runFailed;
    }
    if (!loopback.has(host))
      io.stderr(`lft board: warning: listening on ${host}, not only this machine; anyone who can reach it and has the token can run recipes here\n`);
    const token = newToken();
    let board: Awaited<ReturnType<typeof startBoard>>;
    try {
      board = await startBoard({ registry: session.registry, store: store.value, home, cwd: io.cwd, token, host, port, version: "0.1.0" });
    } catch (cause) {
      store.value.close();
      io.stderr(`lft board: cannot listen on ${host}:${port}: ${cause instanceof Error ? cause.message : String(cause)}\n`);
      return ExitCode.runFailed;
    }
    // The handlers are in place before the link is printed: whoever reads the line may Ctrl-C at once.
    const stopped = new Promise<void>((done) => {
      const stop = (): void => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        done();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    io.stdout(`lft board: ${board.url}/?token=${token}\n`);
    await stopped;
    await board.close();
    store.value.close();
    return ExitCode.ok;
  },
};
