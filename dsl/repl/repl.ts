// `lft` with no arguments: a read-eval-print loop over the recipe grammar. Lines gather until braces
// and brackets close, then run as statements against the live session; `:commands` inspect it.
// Nothing a user types ends the session except :quit and Ctrl-D. A signal from outside (SIGINT or
// SIGTERM; Ctrl-C where stdin is a pipe or a file, `kill`) ends it the same way whatever stdin is: a
// running action stops at its next step with a checkpoint, and the REPL exits 130 (a second signal kills).

import * as readline from "node:readline";
import { didYouMean, interruptOnSignals, suggest } from "../../core/index.ts";
import { ExitCode } from "../exit-codes";
import { LBrace, LBracket, RBrace, RBracket, recipeLexer } from "../lexer";
import type { Session } from "../session";
import { complete } from "./completion";
import { appendHistory, historyLimit, historyPath, loadHistory } from "./history";
import { metaCommands } from "./meta";
import { ReplState } from "./state";

export interface ReplOptions {
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly historyPath?: string;
}

const prompt = "lft> ";
const continuation = "...> ";

/** Open braces and brackets left by `text` (strings and comments do not count). */
export function openDepth(text: string): number {
  let depth = 0;
  for (const t of recipeLexer.tokenize(text).tokens) {
    if (t.tokenType === LBrace || t.tokenType === LBracket) depth++;
    else if (t.tokenType === RBrace || t.tokenType === RBracket) depth--;
  }
  return depth;
}

export async function startRepl(session: Session, options: ReplOptions = {}): Promise<number> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const repl = new ReplState(session, session.io.cwd);
  const history = options.historyPath ?? historyPath();
  let pending = "";
  let busy = false;

  const colonCommands = (): string[] => [
    ...Object.keys(metaCommands),
    ...session.registry
      .list("commands")
      .filter((c) => c.scope === "repl" || c.scope === "both")
      .map((c) => c.name),
  ];
  const rl = readline.createInterface({
    input,
    output,
    terminal: output.isTTY === true,
    history: loadHistory(history),
    historySize: historyLimit,
    completer: (line: string): [string[], string] => {
      const lets = repl.recipe.statements.flatMap((s) => (s.kind === "let" ? [s.name.text] : []));
      return complete(pending, line, { registry: session.registry, lets, commands: colonCommands(), cwd: repl.cwd });
    },
  });
  // While an interactive `chat` waits for a line, typed lines go to it, not to the REPL: one reader
  // owns the terminal. Ctrl-D and Ctrl-C there leave the chat, not the REPL.
  let waiter: ((line: string | undefined) => void) | undefined;
  const answerWaiter = (line: string | undefined): boolean => {
    const w = waiter;
    if (w === undefined) return false;
    waiter = undefined;
    w(line);
    return true;
  };
  repl.readLine = (text: string) =>
    new Promise<string | undefined>((resolve) => {
      waiter = resolve;
      rl.setPrompt(text);
      rl.prompt();
    });
  const interactive = output.isTTY === true;
  const closeReadline = rl.close.bind(rl);
  rl.close = (): void => {
    // Ctrl-D in a chat on a terminal ends the chat; end of piped input ends both.
    if (answerWaiter(undefined) && interactive) {
      session.io.stdout("\n");
      return;
    }
    closeReadline();
  };
  const show = (): void => {
    rl.setPrompt(pending === "" ? prompt : continuation);
    rl.prompt();
  };

  session.io.stdout("lft REPL: recipe statements run as you type them; :help lists commands, Ctrl-D leaves.\n");
  let historyBroken = false;
  let chain = Promise.resolve();
  let quit = false;
  let closed = false;

  // Ctrl-C typed at a terminal reaches readline as a key (below) and keeps its interactive meaning. A
  // real signal means "stop": the run in progress is interrupted (it saves a checkpoint and is
  // recorded "interrupted"), the rest of the input is dropped, and the REPL ends with status 130.
  const signals = interruptOnSignals();
  signals.signal.addEventListener("abort", () => {
    quit = true;
    session.io.stderr(`\n(${signals.received() ?? "signal"}: ${busy ? "interrupting the run, then leaving" : "leaving"}; a second one kills)\n`);
    answerWaiter(undefined);
    if (busy) session.controller.abort();
    else if (!closed) rl.close();
  });

  rl.on("SIGINT", () => {
    if (answerWaiter(undefined)) {
      session.io.stdout("\n");
      return;
    }
    if (busy) {
      session.controller.abort();
      session.io.stderr("\n(interrupting the run)\n");
      return;
    }
    const typed = pending !== "" || rl.line !== "";
    // Ctrl-U: readline's own "delete to the start of the line".
    if (rl.line !== "") rl.write(null, { ctrl: true, name: "u" });
    session.io.stdout(typed ? "\n(input cancelled)\n" : "\n(Ctrl-D or :quit leaves)\n");
    pending = "";
    show();
  });

  const handle = async (line: string): Promise<void> => {
    if (quit) return;
    if (!appendHistory(history, line) && !historyBroken) {
      historyBroken = true;
      session.io.stderr(`(history not saved: cannot write ${history})\n`);
    }
    if (pending === "" && line.trimStart().startsWith(":")) {
      // A long :command (:eval) is a run too: Ctrl-C aborts it through the session's controller.
      busy = true;
      try {
        quit = (await colon(line.trim())) === "quit";
      } finally {
        busy = false;
        if (session.controller.signal.aborted) session.controller = new AbortController();
      }
      return;
    }
    const text = pending === "" ? line : `${pending}\n${line}`;
    if (text.trim() === "") return;
    if (openDepth(text) > 0) {
      pending = text;
      return;
    }
    pending = "";
    busy = true;
    try {
      await repl.evaluate(text);
    } catch (cause) {
      // A bug, not a user error: report it and keep the session.
      session.io.stderr(`internal error: ${cause instanceof Error ? cause.message : String(cause)}\n`);
    } finally {
      busy = false;
      if (session.controller.signal.aborted) session.controller = new AbortController();
    }
  };

  const colon = async (text: string): Promise<number | "quit"> => {
    const [head = "", ...args] = text
      .slice(1)
      .split(/\s+/)
      .filter((s) => s !== "");
    const name = head === "exit" || head === "q" ? "quit" : head;
    const meta = metaCommands[name];
    if (meta !== undefined) return meta.run(args, repl);
    const command = session.registry.get("commands", name);
    if (command.isOk() && command.value.scope !== "cli") {
      try {
        return await command.value.run(args, session.io, session);
      } catch (cause) {
        const owner = session.registry.ownerOf("commands", name) ?? "?";
        session.io.stderr(`:${name} (plugin "${owner}") failed: ${cause instanceof Error ? cause.message : String(cause)}\n`);
        return ExitCode.runFailed;
      }
    }
    const near = suggest(name, colonCommands()).map((c) => `:${c}`);
    session.io.stderr(`unknown command :${name}${didYouMean(near)}; :help lists them\n`);
    return ExitCode.usage;
  };

  return new Promise<number>((done) => {
    rl.on("line", (line) => {
      if (answerWaiter(line)) return;
      // One input at a time, in order; piped input may deliver every line (and EOF) at once.
      chain = chain
        .then(() => handle(line))
        .catch((cause: unknown) => session.io.stderr(`internal error: ${cause instanceof Error ? cause.message : String(cause)}\n`))
        .then(() => {
          if (quit && !closed) rl.close();
          else if (!closed) show();
        });
    });
    rl.on("close", () => {
      closed = true;
      // readline leaves the terminal's input stream open: release it so the process can end.
      const stream = input as { setRawMode?: (raw: boolean) => void; isTTY?: boolean };
      try {
        if (stream.isTTY === true) stream.setRawMode?.(false);
        input.pause();
      } catch {
        // A stream that cannot be paused any more is already done.
      }
      const finish = (): void => {
        signals.dispose();
        if (pending !== "" && !signals.signal.aborted) session.io.stderr("(unfinished input dropped)\n");
        done(signals.signal.aborted ? ExitCode.interrupted : ExitCode.ok);
      };
      void chain.then(finish, finish);
    });
    show();
  });
}
