// Waiting out a busy run store. Several runs may share one store file: SQLite's busy timeout covers
// most waits, but some cannot use it (a deferred transaction upgrading from read to write, WAL
// recovery, a journal-mode change at open) and fail at once with SQLITE_BUSY or SQLITE_LOCKED. Those
// are retried here with a growing, jittered pause, so a run never fails because another run writes.

/** How long one store operation may wait for other writers before it gives up (ms). */
export const BUSY_WAIT_LIMIT_MS = 60_000;

/** SQLITE_BUSY / SQLITE_LOCKED and their extended codes (…_SNAPSHOT, …_RECOVERY, …_SHAREDCACHE). */
export function isBusy(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))) return true;
  return /database (table )?is locked|database is busy/i.test(e.message);
}

/** Runs `fn`, retrying while the database is busy, up to `limitMs`; other errors pass through. */
export function retryWhileBusy<T>(fn: () => T, limitMs = BUSY_WAIT_LIMIT_MS): T {
  const deadline = Date.now() + limitMs;
  let pause = 2;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e) || Date.now() >= deadline) throw e;
      Bun.sleepSync(pause / 2 + Math.random() * pause);
      pause = Math.min(pause * 2, 250);
    }
  }
}
