// How a runner step fails: a message for the user (what was expected, what was found, what to do),
// never a stack. Steps return Result<T, RunFailure>; run.ts turns the first failure into the outcome.
import { type Err, err } from "neverthrow";

export class RunFailure extends Error {
  override readonly name = "RunFailure";
}

/** `err(new RunFailure(message))`, typed for any Ok side. */
export function fail(message: string): Err<never, RunFailure> {
  return err(new RunFailure(message));
}

/** The message of anything thrown, for a failure that names where it happened. */
export function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
