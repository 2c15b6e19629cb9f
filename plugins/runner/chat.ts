// `chat "prompt"`: one answer, streamed as it is generated. `chat` alone: a conversation on stdin
// (each line a user turn; /clear forgets the conversation, /exit or end of input leaves). The header
// says what the model is now (the base model, or what trained it), so a recipe that chats before and
// after training shows the change.
import { createInterface } from "node:readline";
import { err, ok, type Result } from "neverthrow";
import type { ChatAction, Message } from "../../core/index.ts";
import { rememberedSettings } from "./chat-settings.ts";
import type { RunFailure } from "./failure.ts";
import { recipePath } from "./paths.ts";
import { type PromptRenderer, promptRenderer } from "./prompts.ts";
import { describeSampling, generateFor, type Sampling, samplingOf } from "./sampling.ts";
import { type ActionEnd, type Scope, say } from "./scope.ts";
import type { ModelState } from "./state.ts";

/** "base model" until something changed the weights, then what did ("after sft 80 steps"). */
export function modelLabel(state: ModelState): string {
  if (state.history.length === 0) return state.method === undefined ? "base model" : `base model, before training (${state.method.applied.method} attached)`;
  return `after ${state.history.join(", then ")}`;
}

export async function chatAction(action: ChatAction, scope: Scope, input?: AsyncIterable<string>): Promise<Result<ActionEnd, RunFailure>> {
  const renderer = promptRenderer(scope);
  if (renderer.isErr()) return err(renderer.error);
  const remembered = rememberedSettings(scope.recipe, (p) => recipePath(scope.recipe, p));
  const sampling = samplingOf({ ...remembered?.generation, ...action.options }, 42);
  const system = typeof action.options.system === "string" ? action.options.system : (remembered?.system ?? "");
  const header = `chat · ${modelLabel(scope.state)} · ${renderer.value.describe} · ${describeSampling(sampling)}`;
  if (action.prompt !== undefined) {
    say(scope.io, header);
    say(scope.io, `> ${action.prompt}`);
    const answered = answer(scope, renderer.value, [{ role: "user", content: action.prompt }], system, sampling);
    return answered.map(() => "done" as const);
  }
  say(scope.io, `${header} · /exit or end of input leaves, /clear forgets the conversation`);
  const lines = input ?? (scope.readLine === undefined ? stdinLines() : readerLines(scope.readLine));
  return converse(scope, renderer.value, system, sampling, lines, scope.readLine === undefined);
}

/** Generates one reply, writing it to stdout as it comes; returns its text. */
function answer(scope: Scope, renderer: PromptRenderer, turns: readonly Message[], system: string, sampling: Sampling): Result<string, RunFailure> {
  const ids = renderer.render(turns, system);
  if (ids.isErr()) return err(ids.error);
  const result = generateFor(scope.state, [ids.value], renderer, sampling, (e) => {
    if (e.text !== undefined && e.text !== "") scope.io.stdout(e.text);
  });
  scope.io.stdout("\n");
  return result.map((r) => r.texts?.[0] ?? "");
}

export async function converse(
  scope: Scope,
  renderer: PromptRenderer,
  system: string,
  sampling: Sampling,
  lines: AsyncIterable<string>,
  /** False when the line reader shows the `you> ` prompt itself (the REPL's line editor). */
  printPrompt = true,
): Promise<Result<ActionEnd, RunFailure>> {
  const turns: Message[] = [];
  const ask = (): void => {
    if (printPrompt) scope.io.stdout("you> ");
  };
  ask();
  for await (const raw of lines) {
    if (scope.signal.aborted) return ok("interrupted");
    const line = raw.trim();
    if (line === "/exit") break;
    if (line === "/clear") {
      turns.length = 0;
      say(scope.io, "(conversation cleared)");
    } else if (line !== "") {
      if (!renderer.multiTurn) turns.length = 0;
      turns.push({ role: "user", content: line });
      scope.io.stdout("assistant> ");
      const reply = answer(scope, renderer, turns, system, sampling);
      if (reply.isErr()) return err(reply.error);
      turns.push({ role: "assistant", content: reply.value });
    }
    ask();
  }
  if (printPrompt) scope.io.stdout("\n");
  return ok("done");
}

/** Lines from the REPL's reader, until it reports that the user left. */
async function* readerLines(readLine: (prompt: string) => Promise<string | undefined>): AsyncGenerator<string> {
  for (;;) {
    const line = await readLine("you> ");
    if (line === undefined) return;
    yield line;
  }
}

async function* stdinLines(): AsyncGenerator<string> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
  }
}
