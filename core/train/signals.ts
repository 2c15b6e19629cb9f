// SIGINT/SIGTERM → an AbortSignal for train(): the run stops after the current step, saves a checkpoint
// and ends as "interrupted". Installed by the CLI, not by the library (a REPL owns its own signals);
// a second signal while stopping restores the default behaviour, so Ctrl-C twice still kills.
export interface SignalGuard {
  readonly signal: AbortSignal;
  /** Which signal arrived, once one has. */
  readonly received: () => NodeJS.Signals | undefined;
  dispose(): void;
}

export function interruptOnSignals(signals: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"]): SignalGuard {
  const controller = new AbortController();
  let got: NodeJS.Signals | undefined;
  const handler = (sig: NodeJS.Signals): void => {
    if (got) {
      dispose();
      process.kill(process.pid, sig);
      return;
    }
    got = sig;
    controller.abort(new Error(`received ${sig}`));
  };
  const dispose = (): void => {
    for (const s of signals) process.off(s, handler);
  };
  for (const s of signals) process.on(s, handler);
  return { signal: controller.signal, received: () => got, dispose };
}
