// The one error type train() returns: a reason to branch on and a message that says what to change.
export type TrainErrorReason =
  /** Options that cannot work (checked before anything runs). */
  | "options"
  /** A checkpoint could not be written, read, or does not fit this run. */
  | "checkpoint"
  /** A hook (store, board, a plugin) failed. */
  | "hook"
  /** Too many steps in a row had a NaN/Inf loss or gradient. */
  | "non-finite"
  /** The stage's loss function, the evaluation or a kernel threw. */
  | "step";

export class TrainError extends Error {
  override readonly name = "TrainError";
  constructor(
    readonly reason: TrainErrorReason,
    message: string,
    /** Last completed step when it failed. */
    readonly step = 0,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
