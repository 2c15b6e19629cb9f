// Conversation turns shared by the sharegpt, openai, pairwise and kto formats: role tags to roles,
// one turn object to a message, which roles may stand at which position (user/observation and
// assistant/function alternate, starting with a user turn), and the prompt/response split.

import { err, ok, type Result } from "neverthrow";
import { describe, type Message, type Role, type RowProblem, type Tags } from "../../../core/index.ts";
import { problem, type Row } from "./row-fields.ts";

export interface AlignedTurns {
  readonly messages: Message[];
  readonly system: string;
  readonly tools: string;
}

/** Maps a turn's role tag to a role; the tags a dataset leaves unset match nothing. */
export function roleOf(tags: Tags, tag: unknown): Role | "system" | undefined {
  if (typeof tag !== "string") return undefined;
  if (tag === tags.user_tag) return "user";
  if (tag === tags.assistant_tag) return "assistant";
  if (tag === tags.observation_tag) return "observation";
  if (tag === tags.function_tag) return "function";
  if (tag === tags.system_tag) return "system";
  return undefined;
}

/** One turn object → message, checking the role tag against the position's allowed roles. */
export function turnOf(turn: unknown, tags: Tags, allowed: readonly Role[], where: string): Result<Message, RowProblem> {
  if (typeof turn !== "object" || turn === null || Array.isArray(turn))
    return err(problem("wrong-type", `${where} must be an object, found ${describe(turn)}`));
  const t = turn as Row;
  const roleTag = tags.role_tag ?? "";
  const contentTag = tags.content_tag ?? "";
  const tag = t[roleTag];
  const role = roleOf(tags, tag);
  if (role === undefined || role === "system" || !allowed.includes(role)) {
    const expected = allowed.map((r) => tags[`${r}_tag`]).filter((x) => x !== undefined);
    return err(problem("invalid-role", `${where} has role ${describe(tag)} where ${expected.map((e) => `"${e}"`).join(" or ")} is expected`));
  }
  const content = t[contentTag];
  if (typeof content !== "string")
    return err(problem(content === undefined ? "missing-column" : "wrong-type", `${where} "${contentTag}" must be a string, found ${describe(content)}`));
  return ok({ role, content });
}

const ODD: readonly Role[] = ["user", "observation"];
const EVEN: readonly Role[] = ["assistant", "function"];
/** Roles allowed at turn i (0-based, after the system turn is taken off). */
export const allowedAt = (i: number): readonly Role[] => (i % 2 === 0 ? ODD : EVEN);
export const RESPONSE_ROLES = EVEN;

/** The prompt/response split for a supervised conversation: an even number of turns, the last one the response. */
export function splitLastTurn(messages: Message[], column: string): Result<{ prompt: Message[]; response: Message }, RowProblem> {
  if (messages.length === 0 || messages.length % 2 !== 0) {
    return err(problem("invalid-turns", `column "${column}" must hold an even number of turns (prompt and response alternating), found ${messages.length}`));
  }
  return ok({ prompt: messages.slice(0, -1), response: messages[messages.length - 1]! });
}
